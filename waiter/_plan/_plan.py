"""The plan: everything a run needs, resolved from the settings once, before anything is sent.

Where to send (the endpoint, from the region or given), with which credentials (chosen here
and read once), over what TLS, what statuses mean, and the engine's policy. Kept free of
aiohttp, so the command line can reject a bad configuration at once. What needs the network
(temporary credentials, a project ID looked up from IAM) is only planned here, and done when
the Waiter starts (``_start.py``).
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from .._apis._json_pointer import parse_pointer
from .._apis._kinds import API_KINDS, ApiKind
from .._auth._sources import ApiAuthHeader, Credentials, credentials_for, find_api_auth
from .._config._settings import Settings, source_of
from .._config._table import SPECS_BY_NAME, shown
from .._engine._policy import Policy
from .._engine._status import StatusClassifier
from .._errors import ConfigError
from ._regions import KNOWN_REGIONS, default_endpoint, iam_endpoint_for

__all__ = ["Plan", "ProjectLookup", "is_loopback", "make_plan"]


@dataclass(frozen=True)
class ProjectLookup:
    """The project ID is to be looked up: the projects named ``region`` on ``iam_endpoint``."""

    iam_endpoint: str
    region: str


@dataclass(frozen=True)
class Plan:
    """What a Waiter needs, checked. Each value has its one owner here."""

    settings: Settings  # what the plan was made from (``Waiter.settings``)
    api: ApiKind
    endpoint: str  # for --api http: the URL template
    # Further endpoints, tried in turn when one cannot be reached (a comma list, as the SDK's
    # HUAWEICLOUD_SDK_REGION_KPS_<REGION> gives them).
    fallbacks: tuple[str, ...]
    # None: not needed, or to be looked up at start (``lookup``). The profile file's project
    # ID counts only when no other source names one.
    project_id: str | None
    lookup: ProjectLookup | None
    credentials: Credentials
    # --api http: the API's own auth header (WAITER_API_AUTH, api.auth_file), if given.
    api_header: ApiAuthHeader | None
    tls: ssl.SSLContext
    policy: Policy
    request_timeout: float
    status_field: str | None
    # Set when the endpoint comes from a region the API is not known to serve.
    unknown_region: str | None


def make_plan(settings: Settings) -> Plan:
    """Everything needed to poll, or a ConfigError naming what is missing and how to set it."""
    kind = API_KINDS[settings.api]
    api_header = None
    fallbacks: tuple[str, ...] = ()
    if kind.default_endpoint is None:
        endpoint = _http_template(settings)
    else:
        endpoint, *rest = _endpoints_for(settings, kind)
        fallbacks = tuple(rest)
    for each in (endpoint, *fallbacks):
        _check_scheme(each.split("{", 1)[0], settings, "endpoint")
    # --api http: no Huawei credentials unless asked for (the template may name any host).
    credentials = credentials_for(settings)
    if kind.default_endpoint is None:
        api_header = find_api_auth(settings)
        _check_no_clash(api_header, credentials)
    project_id = settings.project_id or credentials.profile_project_id
    needs_project = kind.default_endpoint is not None or "{project_id}" in endpoint
    lookup = None
    if needs_project and not project_id:
        lookup = _lookup(settings, credentials)
    known = KNOWN_REGIONS.get(kind.name)
    unknown = None
    if settings.endpoint is None and known is not None and settings.region:
        unknown = None if settings.region in known else settings.region
    return Plan(
        settings=settings,
        api=kind,
        endpoint=endpoint,
        fallbacks=fallbacks,
        project_id=project_id,
        lookup=lookup,
        credentials=credentials,
        api_header=api_header,
        tls=_tls(settings),
        policy=_policy(settings, kind),
        request_timeout=settings.request_timeout,
        status_field=settings.status_field,
        unknown_region=unknown,
    )


def _policy(settings: Settings, kind: ApiKind) -> Policy:
    return Policy(
        timeout=settings.timeout,
        min_interval=settings.min_interval,
        max_interval=settings.max_interval,
        max_in_flight=settings.max_in_flight,
        rate=settings.rate,
        fail_fast=settings.fail_fast,
        fail_fast_errors=settings.fail_fast_errors,
        not_found_grace=settings.not_found_grace,
        bulk=settings.bulk,
        classifier=_classifier(settings, kind),
    )


# The headers each kind of Huawei credentials sends: the API's own header must be another.
_HUAWEI_HEADERS = {
    "token": {"x-auth-token"},
    "access-key": {"authorization", "x-sdk-date", "x-project-id", "x-security-token"},
    "ecs-metadata": {"authorization", "x-sdk-date", "x-project-id", "x-security-token"},
    "id-token": {"authorization", "x-sdk-date", "x-project-id", "x-security-token"},
    "oidc-agency": {"authorization", "x-sdk-date", "x-project-id", "x-security-token"},
    "pod-identity": {"authorization", "x-sdk-date", "x-project-id", "x-security-token"},
}


def _check_no_clash(header: ApiAuthHeader | None, credentials: Credentials) -> None:
    if header is None or header.name.lower() not in _HUAWEI_HEADERS.get(credentials.kind, ()):
        return
    raise ConfigError(
        f"api.auth_header {header.name} is a header the Huawei credentials send too "
        "(--api-huawei-auth is on): give the API's own credentials in another header with "
        "--api-auth-header (e.g. X-Api-Key), or drop one of the two",
        setting="api_auth_header",
    )


def _lookup(settings: Settings, credentials: Credentials) -> ProjectLookup:
    """How to look the project ID up from IAM, or ConfigError when it cannot be."""
    how = SPECS_BY_NAME["project_id"].how_to_set()
    if not credentials.signs:
        # IAM answers a token's projects too, but a token is scoped to one project already:
        # whoever made it knows the project ID.
        raise ConfigError(f"no project ID: {how}", setting="project_id")
    if not settings.region:
        raise ConfigError(
            f"no project ID: {how}; or set the region (--region, WAITER_REGION or kps.region) "
            "so that waiter can look it up from IAM",
            setting="project_id",
        )
    # As the SDK picks it: the profile file's, the setting (HUAWEICLOUD_SDK_IAM_ENDPOINT), the
    # region's from the SDK's table, else the global endpoint.
    template = (
        credentials.profile_iam_endpoint
        or settings.iam_endpoint
        or iam_endpoint_for(settings.region)
    )
    endpoint = template.replace("{region}", settings.region).rstrip("/")
    _check_scheme(endpoint, settings, "auth.iam_endpoint")
    return ProjectLookup(endpoint, settings.region)


def _http_template(settings: Settings) -> str:
    if not settings.url_template or not settings.status_field:
        raise ConfigError(
            "--api http needs --url-template (with {task_id}) and --status-field (a JSON "
            "pointer such as /status); or api.url_template and api.status_field",
            setting="url_template",
        )
    parse_pointer(settings.status_field)
    return settings.url_template


def _classifier(settings: Settings, kind: ApiKind) -> StatusClassifier:
    success = settings.success or kind.success
    failure = settings.failure or kind.failure
    pending = settings.pending or kind.pending
    if success is None or failure is None or pending is None:
        raise ConfigError(
            f"--api {kind.name} has no statuses of its own: give --success, --failure and "
            "--pending (status.success, status.failure, status.pending)",
            setting="success",
        )
    return StatusClassifier(success, failure, pending)


# Where the SDK's comma lists of endpoints come from (``_config._load._region_endpoint``).
_LISTED_SOURCES = ("environment HUAWEICLOUD_SDK_REGION_", "regions file ")


def _endpoints_for(settings: Settings, kind: ApiKind) -> list[str]:
    """The endpoints, tried in turn: the SDK's list (its per-region variable or regions
    file), else ``--endpoint`` (one URL, which may contain ``{region}``), else the region's
    endpoint of the API."""
    given = settings.endpoint or kind.default_endpoint or ""
    if (source_of(settings, "endpoint") or "").startswith(_LISTED_SOURCES):
        return [_endpoint_for(settings, kind, item.strip()) for item in given.split(",")]
    host = urlsplit(given.split("{", 1)[0]).netloc
    if "," in host:
        where = source_of(settings, "endpoint") or "endpoint"
        raise ConfigError(
            f"{where}: endpoint is one URL, got {shown(given)}; a list of endpoints tried in "
            "turn is the SDK's, in HUAWEICLOUD_SDK_REGION_KPS_<REGION> or its regions file",
            setting="endpoint",
        )
    return [_endpoint_for(settings, kind, given)]


def _endpoint_for(settings: Settings, kind: ApiKind, template: str) -> str:
    if "{region}" in template:
        if not settings.region:
            raise ConfigError(
                "no region: set it with --region, WAITER_REGION (or HW_REGION_NAME, "
                "OS_REGION_NAME) or kps.region, or give the whole endpoint with --endpoint",
                setting="region",
            )
        if settings.endpoint is None:
            template = default_endpoint(template, settings.region, kind.name)
        else:
            template = template.replace("{region}", settings.region)
    return template.rstrip("/")


def _check_scheme(endpoint: str, settings: Settings, label: str) -> None:
    """Refuse plain http off loopback: a token or security token would cross in clear text."""
    parts = urlsplit(endpoint)
    if parts.scheme == "https" or settings.allow_insecure_http:
        return
    if not is_loopback(parts.hostname or ""):
        raise ConfigError(
            f"{label} {shown(endpoint, bare=True)} is plain http and not on this machine: use "
            "https, or pass --allow-insecure-http (tls.allow_insecure_http) if you really mean it",
            setting=label.rpartition(".")[2],
        )


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine: localhost, 127.0.0.0/8 or ::1."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tls(settings: Settings) -> ssl.SSLContext:
    """Verification always on; a private CA bundle only adds trust, never removes checks."""
    if settings.ca_bundle is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(settings.ca_bundle))
    except (OSError, ssl.SSLError) as error:
        raise ConfigError(
            f"tls.ca_bundle {shown(settings.ca_bundle, bare=True)} cannot be loaded ({error}); "
            "fix --ca-bundle, SSL_CERT_FILE, REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE",
            setting="ca_bundle",
        ) from None
