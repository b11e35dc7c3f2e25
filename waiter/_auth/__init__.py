"""Credentials: which ones a run uses (token, access key pair, profile file, ECS metadata), the
signature ``SDK-HMAC-SHA256``, and the ``Auth`` objects that put them on a request.

Imports ``_config`` (settings, secret files) and ``_http`` (to fetch temporary keys).
"""
