"""The task APIs: the interface the engine polls through (``TaskApi``), one client module per
API (KPS, ECS jobs, any JSON URL), and the table that says what differs between them.

Imports ``_auth``, ``_http`` and ``_config``.
"""
