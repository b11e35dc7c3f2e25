"""Checks made before anything is sent: where to send, with which credentials, over what TLS.

Kept free of aiohttp, so the command line can reject a bad configuration at once.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from ._auth import Auth, auth_from_settings
from ._errors import ConfigError
from ._settings import SPECS_BY_NAME, Settings

__all__ = ["DEFAULT_KPS_ENDPOINT", "Ready", "check_ready", "endpoint_for"]

DEFAULT_KPS_ENDPOINT = "https://kms.{region}.myhuaweicloud.com"


@dataclass(frozen=True)
class Ready:
    """What a Waiter needs, checked."""

    endpoint: str
    project_id: str
    auth: Auth
    tls: ssl.SSLContext


def check_ready(settings: Settings) -> Ready:
    """Everything needed to poll, or a ConfigError naming what is missing and how to set it."""
    if not settings.project_id:
        how = SPECS_BY_NAME["project_id"].how_to_set()
        raise ConfigError(f"no project ID: {how}", setting="project_id")
    endpoint = endpoint_for(settings)
    _check_scheme(endpoint, settings)
    return Ready(endpoint, settings.project_id, auth_from_settings(settings), _tls(settings))


def endpoint_for(settings: Settings) -> str:
    """``--endpoint`` (which may contain ``{region}``), else the region's KPS endpoint."""
    template = settings.endpoint or DEFAULT_KPS_ENDPOINT
    if "{region}" in template:
        if not settings.region:
            raise ConfigError(
                "no region: set it with --region, WAITER_REGION (or HW_REGION_NAME, "
                "OS_REGION_NAME) or kps.region, or give the whole endpoint with --endpoint",
                setting="region",
            )
        template = template.replace("{region}", settings.region)
    return template.rstrip("/")


def _check_scheme(endpoint: str, settings: Settings) -> None:
    """Refuse plain http off loopback: the token would cross the network in clear text."""
    parts = urlsplit(endpoint)
    if parts.scheme == "https" or settings.allow_insecure_http:
        return
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"endpoint {endpoint} is plain http and not on this machine: use https, "
            "or pass --allow-insecure-http (tls.allow_insecure_http) if you really mean it",
            setting="endpoint",
        )


def _tls(settings: Settings) -> ssl.SSLContext:
    """Verification always on; a private CA bundle only adds trust, never removes checks."""
    if settings.ca_bundle is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(settings.ca_bundle))
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(
            f"tls.ca_bundle {settings.ca_bundle} cannot be loaded ({error}); "
            "fix --ca-bundle or SSL_CERT_FILE",
            setting="ca_bundle",
        ) from None
