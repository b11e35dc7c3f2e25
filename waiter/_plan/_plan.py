"""The plan: everything a run needs, resolved from the settings once, before anything is sent.

Where to send (the endpoint, from the region or given), with which credentials (chosen here
and read once), over what TLS, what statuses mean, and the engine's policy. Kept free of
aiohttp, so the command line can reject a bad configuration at once. What needs the network
(temporary credentials, a project ID looked up from IAM) is only planned here, and done when
the Waiter starts (``_start.py``). A refusal names each setting as the user who made the
settings knows it (``_config._settings.named`` and ``how_to_set``): the field in code, the
flag, variable or config key on the command line.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from .._apis._json_pointer import parse_pointer
from .._apis._kinds import API_KINDS, ApiKind
from .._auth._sources import ApiAuthHeader, Credentials, credentials_for, find_api_auth
from .._config._settings import Settings, how_to_set, made_in, named, source_of
from .._config._table import shown
from .._engine._policy import Policy
from .._engine._status import StatusClassifier
from .._errors import ConfigError
from ._regions import KNOWN_REGIONS, default_endpoint, iam_endpoint_for

__all__ = ["Plan", "ProjectLookup", "insecure_http_fix", "is_loopback", "make_plan"]


@dataclass(frozen=True)
class ProjectLookup:
    """The project ID is to be looked up: the projects named ``region`` on ``iam_endpoint``.

    ``how_to_give`` says how to give the project ID instead, in the settings' words.
    """

    iam_endpoint: str
    region: str
    how_to_give: str


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
    given_as = "url_template" if kind.default_endpoint is None else "endpoint"
    for each in (endpoint, *fallbacks):
        _check_scheme(each.split("{", 1)[0], settings, given_as)
    # --api http: no Huawei credentials unless asked for (the template may name any host).
    credentials = credentials_for(settings)
    if kind.default_endpoint is None:
        api_header = find_api_auth(settings)
        _check_no_clash(api_header, credentials, settings)
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


def _check_no_clash(
    header: ApiAuthHeader | None, credentials: Credentials, settings: Settings
) -> None:
    if header is None or header.name.lower() not in _HUAWEI_HEADERS.get(credentials.kind, ()):
        return
    raise ConfigError(
        f"{named(settings, 'api_auth_header')} is {header.name}, a header the Huawei "
        f"credentials send too ({named(settings, 'api_huawei_auth')} is on): give the API's "
        "own credentials in another header (e.g. X-Api-Key) with "
        f"{how_to_set(settings, 'api_auth_header')}, or drop one of the two",
        setting="api_auth_header",
    )


def _lookup(settings: Settings, credentials: Credentials) -> ProjectLookup:
    """How to look the project ID up from IAM, or ConfigError when it cannot be."""
    how = f"set {how_to_set(settings, 'project_id')}"
    if not credentials.signs:
        # IAM answers a token's projects too, but a token is scoped to one project already:
        # whoever made it knows the project ID.
        raise ConfigError(f"no project ID: {how}", setting="project_id")
    if not settings.region:
        raise ConfigError(
            f"no project ID: {how}; or set {how_to_set(settings, 'region')} so that waiter "
            "can look it up from IAM",
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
    given_in = f"iam_endpoint in {credentials.source}" if credentials.profile_iam_endpoint else None
    _check_scheme(endpoint, settings, "iam_endpoint", given_in)
    return ProjectLookup(endpoint, settings.region, how)


def _http_template(settings: Settings) -> str:
    template, pointer = settings.url_template, settings.status_field
    if not template or not pointer:
        given = {"url_template": template, "status_field": pointer}
        missing = [name for name, value in given.items() if not value]
        ways = " and ".join(how_to_set(settings, name) for name in missing)
        raise ConfigError(
            "the http task API needs a URL template with {task_id} and a JSON pointer to the "
            f"status in the answer (such as /status): set {ways}",
            setting=missing[0],
        )
    parse_pointer(pointer)
    return template


_STATUS_CLASSES = ("success", "failure", "pending")


def _classifier(settings: Settings, kind: ApiKind) -> StatusClassifier:
    success = settings.success or kind.success
    failure = settings.failure or kind.failure
    pending = settings.pending or kind.pending
    if success is None or failure is None or pending is None:
        missing = [name for name in _STATUS_CLASSES if getattr(settings, name) is None]
        ways = ", ".join(how_to_set(settings, name) for name in missing)
        raise ConfigError(
            f"the {kind.name} task API has no statuses of its own: set {ways}",
            setting=missing[0],
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
        # The SDK's per-region variable and regions file are read by load_settings only.
        sdk = (
            "; a list of endpoints tried in turn is the SDK's, in "
            "HUAWEICLOUD_SDK_REGION_KPS_<REGION> or its regions file"
        )
        raise ConfigError(
            f"{named(settings, 'endpoint')} must be one URL, got {shown(given)}"
            + ("" if made_in(settings) == "code" else sdk),
            setting="endpoint",
        )
    return [_endpoint_for(settings, kind, given)]


def _endpoint_for(settings: Settings, kind: ApiKind, template: str) -> str:
    if "{region}" in template:
        if not settings.region:
            raise ConfigError(
                f"no region: set {how_to_set(settings, 'region')}; or set "
                f"{how_to_set(settings, 'endpoint')} to the whole endpoint URL",
                setting="region",
            )
        if settings.endpoint is None:
            template = default_endpoint(template, settings.region, kind.name)
        else:
            template = template.replace("{region}", settings.region)
    return template.rstrip("/")


def _check_scheme(
    endpoint: str, settings: Settings, name: str, given_in: str | None = None
) -> None:
    """Refuse plain http off loopback: a token or security token would cross in clear text.

    ``name`` is the setting that gives the endpoint; ``given_in`` says where, when it is not
    that setting (the profile file's ``iam_endpoint``).
    """
    parts = urlsplit(endpoint)
    if parts.scheme == "https" or settings.allow_insecure_http:
        return
    if not is_loopback(parts.hostname or ""):
        raise ConfigError(
            f"{given_in or named(settings, name)} is {shown(endpoint, bare=True)}, plain http "
            f"and not on this machine: credentials would cross in clear text; "
            f"{insecure_http_fix(settings)}",
            setting=name,
        )


def insecure_http_fix(settings: Settings) -> str:
    """What to do about a plain http endpoint off this machine, in the settings' words."""
    return f"use https, or set {how_to_set(settings, 'allow_insecure_http')} if you really mean it"


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
            f"the CA bundle {shown(settings.ca_bundle, bare=True)} from "
            f"{named(settings, 'ca_bundle')} cannot be loaded ({error}); fix the file or the path",
            setting="ca_bundle",
        ) from None
