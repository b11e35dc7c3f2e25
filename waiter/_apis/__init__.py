"""The task APIs: the interface the engine polls through (``TaskApi``), one client module per
API (KPS, ECS jobs, any JSON URL), and the table that says what differs between them.

Imports ``_http`` and ``_config``, never ``_auth``: a client is handed its credentials as an
``Auth``, the protocol ``_http`` defines.
"""
