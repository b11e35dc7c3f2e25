"""From settings to a plan: endpoint, credentials, TLS, status classes and engine policy,
resolved once before anything is sent; and start-up, the network work a plan may need
(temporary credentials, the project ID from IAM).

Imports ``_engine``, ``_apis``, ``_auth``, ``_http`` and ``_config``.
"""
