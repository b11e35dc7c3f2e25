"""Which credentials to use, and where they came from.

The order is the contract's, and the official SDK's chain where they overlap: an IAM token;
else an OIDC agency (``HUAWEICLOUD_OIDC_*``: STS exchanges an ID token, given, in a file or
fetched from GitHub Actions); else the environment: ID-token federation
(``HUAWEICLOUD_SDK_IDP_ID`` and ``_ID_TOKEN_FILE``), then an access key pair
(``HUAWEICLOUD_SDK_*``, then Terraform's ``HW_*``) or one given in code; else the profile file
(``idp_id`` and ``id_token_file``, then ``ak`` and ``sk``); else, only when
``auth.source = "ecs-metadata"`` asks for it, the ECS metadata service; else pod identity
(``HC_CONTAINER_*``). Whatever needs the network (every source of temporary keys) is only
described here (:class:`Credentials.exchange`) and done when the Waiter starts
(``_plan/_start``, with ``_exchange``). Only this module reads the token, ID token, profile and
API auth files.

``--api http`` is the exception to the order: its URL template may name any host, so it gets
no Huawei credentials unless ``api.huawei_auth`` asks for them, and takes the API's own auth
header (:func:`find_api_auth`) instead.

Messages name each setting as the user who made the settings knows it
(``_config._settings.named``, ``how_to_set``): the field in code, the flag, variable or config
key when loaded; the environment's variables are advice only for settings that were loaded.
"""

from __future__ import annotations

import configparser
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .._config._files import KIB, TooLarge, read_at_most, size_text
from .._config._secrets import is_header_safe, is_header_value_safe
from .._config._settings import Settings, how_to_set, made_in, named, source_of
from .._config._table import DEFAULT_OIDC_AUDIENCE, SPECS_BY_NAME, access_key_families, shown
from .._errors import ConfigError
from .._event_log import library_log
from .._redact import remember_secrets
from ._signing import AkSkCredentials

__all__ = [
    "DEFAULT_PROFILE",
    "ApiAuthHeader",
    "Credentials",
    "Exchange",
    "GithubIdToken",
    "IdTokenFederation",
    "OidcAgency",
    "PodIdentity",
    "credentials_for",
    "find_api_auth",
    "find_credentials",
    "read_id_token",
]

# The SDK's default profile file: ~/.huaweicloud/credentials, section [basic].
DEFAULT_PROFILE = Path("~/.huaweicloud/credentials")
_SECTION = "basic"
# A token, a key pair or a header value is well under a KiB; this much is not one.
SECRET_FILE_LIMIT = 64 * KIB

Kind = Literal[
    "token", "access-key", "ecs-metadata", "id-token", "oidc-agency", "pod-identity", "none"
]
# The SDK's defaults for an OIDC agency's session (OidcStsCredentialProvider).
DEFAULT_SESSION_NAME = "oidc-sts-session"
DEFAULT_OIDC_DURATION = 3600
# The SDK's lifetime of keys got by ID-token federation (FederalAccessor): six hours.
FEDERATION_DURATION = 6 * 60 * 60


@dataclass(frozen=True)
class IdTokenFederation:
    """IAM exchanges the ID token in ``id_token_file`` (re-read each time) for temporary keys.

    ``iam_endpoint`` is the profile file's own (the SDK reads it there); None: the settings'
    ``iam_endpoint``, else the region's, resolved at start-up.
    """

    idp_id: str
    id_token_file: Path
    iam_endpoint: str | None
    check: str  # what a refusal tells the user to check
    setting: str = "idp_id"


@dataclass(frozen=True)
class GithubIdToken:
    """GitHub Actions hands the job an ID token for ``audience`` (``permissions: id-token:
    write``): GET ``request_url`` with ``&audience=`` and the request token as a Bearer."""

    request_url: str
    request_token: str = field(repr=False)
    audience: str = DEFAULT_OIDC_AUDIENCE


@dataclass(frozen=True)
class OidcAgency:
    """STS assumes an agency for an OIDC ID token (``POST /v5/agencies/assume-with-oidc``).

    The ID token is ``id_token`` (given), else read from ``token_file`` each time, else
    fetched from GitHub Actions each time (``github``).
    """

    provider_urn: str
    agency_urn: str
    session_name: str
    duration_seconds: int
    policy: str | None
    policy_ids: tuple[str, ...] | None
    token_source: str  # "environment HUAWEICLOUD_OIDC_ID_TOKEN", "file ...", "GitHub Actions"
    id_token: str | None = field(default=None, repr=False)
    token_file: Path | None = None
    github: GithubIdToken | None = None
    check: str = ""
    setting: str = "oidc_provider_urn"


@dataclass(frozen=True)
class PodIdentity:
    """A pod's temporary keys: POST ``uri`` with ``Authorization`` from ``token_file``."""

    uri: str
    token_file: Path
    check: str = ""  # what a refusal tells the user to check
    setting: str = "pod_credentials_uri"


Exchange = IdTokenFederation | OidcAgency | PodIdentity


@dataclass(frozen=True)
class Credentials:
    """The credentials chosen, and where they came from (never the secret itself).

    ``source`` completes "credentials from ...": ``environment HUAWEICLOUD_SDK_AK``,
    ``profile file /home/me/.huaweicloud/credentials``. ``keys`` is None for a token, and for
    the ECS metadata service until the Waiter fetches them.
    """

    kind: Kind
    source: str
    token: str | None = field(default=None, repr=False)
    keys: AkSkCredentials | None = None
    # The profile file's project_id: the plan uses it only when no project ID is set elsewhere.
    profile_project_id: str | None = None
    # The profile file's iam_endpoint: IAM as the SDK picks it comes from there first.
    profile_iam_endpoint: str | None = None
    metadata_url: str | None = None
    # How start-up gets temporary keys on the network (id-token, oidc-agency, pod-identity).
    exchange: Exchange | None = None

    @property
    def signs(self) -> bool:
        """Whether requests are signed with an access key (and so IAM can name the project)."""
        return self.kind not in ("token", "none")

    def describe(self) -> str:
        """One line for ``--show-config``: what is used, from where, and how."""
        if self.kind == "none":
            return self.source
        if self.kind == "token":
            return f"IAM token from {self.source} (sent as X-Auth-Token)"
        refreshed = "fetched at start and refreshed before it expires (signed requests)"
        if self.kind == "ecs-metadata":
            return f"temporary access key from {self.source}, {refreshed}"
        exchange = self.exchange
        if isinstance(exchange, IdTokenFederation):
            return (
                f"temporary access key from IAM for the ID token in {exchange.id_token_file} "
                f"(ID-token federation, identity provider {exchange.idp_id}, from "
                f"{self.source}), {refreshed}"
            )
        if isinstance(exchange, OidcAgency):
            return (
                f"temporary access key from STS for agency {exchange.agency_urn} (OIDC "
                f"agency, from {self.source}; ID token from {exchange.token_source}), {refreshed}"
            )
        if isinstance(exchange, PodIdentity):
            return (
                f"temporary access key from the pod identity endpoint {exchange.uri} "
                f"(from {self.source}), {refreshed}"
            )
        temporary = "temporary " if self.keys and self.keys.security_token else ""
        project = (
            f"; project ID {self.profile_project_id} from it" if self.profile_project_id else ""
        )
        return f"{temporary}access key from {self.source} (signed requests){project}"


@dataclass(frozen=True)
class ApiAuthHeader:
    """The ``--api http`` API's own credentials: one header, its value never shown."""

    name: str
    value: str = field(repr=False)
    source: str  # "environment WAITER_API_AUTH", "file /run/secrets/api", "Settings.api_auth"

    def describe(self) -> str:
        return f"header {self.name} from {self.source} (value never shown)"


def credentials_for(settings: Settings, *, warn: bool = True) -> Credentials:
    """The Huawei credentials a run sends: none for ``--api http`` unless it asks for them."""
    if settings.api == "http" and not settings.api_huawei_auth:
        return Credentials(
            "none",
            "no Huawei credentials: the http task API sends them to the URL template's host "
            f"only with {how_to_set(settings, 'api_huawei_auth')}",
        )
    return find_credentials(settings, warn=warn)


def find_api_auth(settings: Settings, *, warn: bool = True) -> ApiAuthHeader | None:
    """``--api http``'s own auth header: from ``api_auth`` (WAITER_API_AUTH) or the file.

    None when neither is given (the API needs none, or the Huawei credentials are enough).
    """
    name = settings.api_auth_header
    if settings.api_auth:
        remember_secrets(settings.api_auth)
        source = source_of(settings, "api_auth") or "Settings.api_auth"
        return ApiAuthHeader(name, settings.api_auth, source)
    path = settings.api_auth_file
    if path is None:
        return None
    where = f"{named(settings, 'api_auth_file', place=False)} {shown(path, bare=True)}"
    fix = "fix the path"
    value = _read_secret_file(
        path,
        where,
        fix,
        "api_auth_file",
        "api_auth_file_readable_by_others",
        warn=warn,
        empty=f"put the value of the {name} header in it",
    )
    if not is_header_value_safe(value):
        # Never echo the value: it is a secret.
        raise ConfigError(
            f"{where} holds control or non-ASCII characters, or more than one line; put only "
            f"the value of the {name} header in it (e.g. Bearer abc123)",
            setting="api_auth_file",
        )
    remember_secrets(value)
    return ApiAuthHeader(name, value, f"file {shown(path, bare=True)}")


def find_credentials(settings: Settings, *, warn: bool = True) -> Credentials:
    """The first source that has credentials, or ConfigError saying how to give some.

    ``warn=False`` reads without logging (``--show-config`` prints TOML on stdout, where no
    log line may go before logging is set up).
    """
    # Secrets given in code or the environment are masked everywhere, as those read from files.
    remember_secrets(
        settings.token, settings.access_key, settings.secret_key, settings.security_token
    )
    remember_secrets(settings.oidc_id_token, settings.github_request_token)
    if settings.token or settings.token_file is not None:
        if warn:
            _warn_if_token_and_keys(settings)
        if settings.token:
            source = source_of(settings, "token") or "Settings.token"
            return Credentials("token", source, token=settings.token)
        assert settings.token_file is not None
        token = _read_token_file(settings, settings.token_file, warn=warn)
        return Credentials("token", f"file {settings.token_file}", token=token)
    if settings.oidc_provider_urn or settings.oidc_agency_urn:
        return _oidc_agency(settings, warn=warn)
    if settings.idp_id or settings.id_token_file is not None:
        return _federation_from_settings(settings, warn=warn)
    if settings.access_key and settings.secret_key:
        keys = AkSkCredentials(settings.access_key, settings.secret_key, settings.security_token)
        source = source_of(settings, "access_key") or "Settings.access_key"
        return Credentials("access-key", source, keys=keys)
    path = settings.credentials_file or _default_profile()
    if path is not None:
        return _read_profile(path, settings, warn=warn)
    if settings.source == "ecs-metadata":
        return Credentials(
            "ecs-metadata",
            f"the ECS metadata service at {settings.metadata_url}",
            metadata_url=settings.metadata_url,
        )
    if settings.pod_credentials_uri or settings.pod_token_file is not None:
        return _pod_identity(settings, warn=warn)
    raise ConfigError(_no_credentials(settings), setting="token")


def _no_credentials(settings: Settings) -> str:
    """Every way to give credentials, in the words of the user who made the settings."""

    def both(first: str, second: str) -> str:
        return f"{_variable(settings, first)} and {_variable(settings, second)}"

    if made_in(settings) == "code":
        pair = both("access_key", "secret_key")
    else:  # a pair comes from one family of variables
        pair = ", or ".join(f"{ak} and {sk}" for ak, sk, _ in access_key_families())
    return (
        f"no credentials: set {how_to_set(settings, 'token')} or "
        f"{how_to_set(settings, 'token_file')}; or an access key pair ({pair}); or the "
        f"profile file {DEFAULT_PROFILE} or one named by "
        f"{how_to_set(settings, 'credentials_file')}; or, keyless, "
        f"an OIDC agency ({both('oidc_provider_urn', 'oidc_agency_urn')}), ID-token "
        f"federation ({both('idp_id', 'id_token_file')}) or pod identity "
        f"({both('pod_credentials_uri', 'pod_token_file')}); or, on an ECS with an agency, "
        f"set {how_to_set(settings, 'source')} to ecs-metadata"
    )


def _named(settings: Settings, name: str) -> str:
    """Where a setting came from, or the field given in code: for messages and sources."""
    return source_of(settings, name) or f"Settings.{name}"


def _variable(settings: Settings, name: str) -> str:
    """The setting's name to check or set, without where it was given: the field in code, the
    variable (``HUAWEICLOUD_SDK_IDP_ID``), flag or config key when loaded."""
    return named(settings, name, place=False)


def _warn_if_token_and_keys(settings: Settings) -> None:
    """An IAM token wins over an access key pair given as well: say so, naming both."""
    if not (settings.access_key and settings.secret_key):
        return
    token = "token" if settings.token else "token_file"
    used = _named(settings, token) if settings.token else f"file {settings.token_file}"
    library_log().warning(
        "token_and_access_key_both_set",
        token=used,
        access_key=_named(settings, "access_key"),
        used=used,
        fix=f"unset one of them; the IAM token ({_variable(settings, token)}) wins",
    )


def _missing_half(settings: Settings, given: str, missing: str, what: str) -> ConfigError:
    return ConfigError(
        f"{_variable(settings, given)} is set but {_variable(settings, missing)} is not: "
        f"{what} needs both; set {_variable(settings, missing)}, or unset "
        f"{_variable(settings, given)}",
        setting=missing,
    )


def _federation_from_settings(settings: Settings, *, warn: bool) -> Credentials:
    """``HUAWEICLOUD_SDK_IDP_ID`` and ``HUAWEICLOUD_SDK_ID_TOKEN_FILE`` (or the fields)."""
    if not settings.idp_id:
        raise _missing_half(settings, "id_token_file", "idp_id", "ID-token federation")
    if settings.id_token_file is None:
        raise _missing_half(settings, "idp_id", "id_token_file", "ID-token federation")
    idp, file = _variable(settings, "idp_id"), _variable(settings, "id_token_file")
    where = f"{file} {shown(settings.id_token_file, bare=True)}"
    fix = f"fix the path given by {file}"
    read_id_token(settings.id_token_file, where, fix, "id_token_file", warn=warn)
    federation = IdTokenFederation(
        settings.idp_id,
        settings.id_token_file,
        None,
        check=f"check {idp} (the IAM identity provider) and the ID token in {file}",
    )
    source = f"{_named(settings, 'idp_id')} and {_named(settings, 'id_token_file')}"
    return Credentials("id-token", source, exchange=federation)


def _oidc_agency(settings: Settings, *, warn: bool) -> Credentials:
    """``HUAWEICLOUD_OIDC_*``: the provider and agency URNs, and an ID token from somewhere."""
    if not settings.oidc_provider_urn:
        raise _missing_half(settings, "oidc_agency_urn", "oidc_provider_urn", "an OIDC agency")
    if not settings.oidc_agency_urn:
        raise _missing_half(settings, "oidc_provider_urn", "oidc_agency_urn", "an OIDC agency")
    id_token, token_file, github = None, None, None
    if settings.oidc_id_token:
        token_source = _named(settings, "oidc_id_token")
        id_token = settings.oidc_id_token
    elif settings.oidc_token_file is not None:
        token_file = settings.oidc_token_file
        variable = _variable(settings, "oidc_token_file")
        where = f"{variable} {shown(token_file, bare=True)}"
        read_id_token(token_file, where, f"fix the path given by {variable}", "oidc_token_file",
                      warn=warn)  # fmt: skip
        token_source = f"file {token_file}"
    elif settings.github_token_url and settings.github_request_token:
        github = GithubIdToken(
            settings.github_token_url, settings.github_request_token, settings.oidc_audience
        )
        token_source = f"GitHub Actions (audience {settings.oidc_audience})"
    else:
        # GitHub Actions' variables are read by load_settings; in code they are two fields.
        github_way = (
            f"set {_variable(settings, 'github_token_url')} and "
            f"{_variable(settings, 'github_request_token')} from a job with permissions: "
            "id-token: write"
            if made_in(settings) == "code"
            else "give the job permissions: id-token: write (waiter then asks GitHub for one)"
        )
        raise ConfigError(
            f"{_variable(settings, 'oidc_provider_urn')} is set but no ID token is given: set "
            f"{_variable(settings, 'oidc_id_token')} or {_variable(settings, 'oidc_token_file')}"
            f"; or, on GitHub Actions, {github_way}",
            setting="oidc_id_token",
        )
    provider, agency = (
        _variable(settings, "oidc_provider_urn"),
        _variable(settings, "oidc_agency_urn"),
    )
    agency_exchange = OidcAgency(
        provider_urn=settings.oidc_provider_urn,
        agency_urn=settings.oidc_agency_urn,
        session_name=settings.oidc_session_name or DEFAULT_SESSION_NAME,
        duration_seconds=settings.oidc_duration_seconds or DEFAULT_OIDC_DURATION,
        policy=settings.oidc_policy,
        policy_ids=settings.oidc_policy_ids,
        token_source=token_source,
        id_token=id_token,
        token_file=token_file,
        github=github,
        check=(
            f"check {provider}, {agency} and the ID token ({token_source}): the agency must "
            "trust that identity provider, and the provider the token's issuer and audience"
        ),
    )
    return Credentials("oidc-agency", _named(settings, "oidc_provider_urn"),
                       exchange=agency_exchange)  # fmt: skip


def _pod_identity(settings: Settings, *, warn: bool) -> Credentials:
    """``HC_CONTAINER_CREDENTIALS_FULL_URI`` and ``HC_CONTAINER_AUTHORIZATION_TOKEN_FILE``."""
    if not settings.pod_credentials_uri:
        raise _missing_half(settings, "pod_token_file", "pod_credentials_uri", "pod identity")
    if settings.pod_token_file is None:
        raise _missing_half(settings, "pod_credentials_uri", "pod_token_file", "pod identity")
    variable = _variable(settings, "pod_token_file")
    where = f"{variable} {shown(settings.pod_token_file, bare=True)}"
    read_id_token(settings.pod_token_file, where, f"fix the path given by {variable}",
                  "pod_token_file", warn=warn, header=True)  # fmt: skip
    uri = _variable(settings, "pod_credentials_uri")
    check = f"check {uri} and {variable} (the pod's identity association)"
    pod = PodIdentity(settings.pod_credentials_uri, settings.pod_token_file, check)
    return Credentials("pod-identity", _named(settings, "pod_credentials_uri"), exchange=pod)


def read_id_token(
    path: Path, where: str, fix: str, setting: str, *, warn: bool = False, header: bool = False
) -> str:
    """An ID token (or the pod's authorization token) from its file, read bounded and masked.

    Read when the settings are checked and again for each exchange: such files are rotated.
    ``header``: the value is sent as a header, so it may hold inner spaces (``Bearer x``).
    """
    token = _read_secret_file(
        path,
        where,
        fix,
        setting,
        f"{setting}_readable_by_others",
        warn=warn,
        empty="put the token in it",
    )
    if not (is_header_value_safe(token) if header else is_header_safe(token)):
        # Never echo the value: it is a secret.
        raise ConfigError(
            f"{where} holds spaces or control characters inside the token; put only the "
            "token in it",
            setting=setting,
        )
    remember_secrets(token)
    return token


def _default_profile() -> Path | None:
    """The SDK's profile file when it exists; None without one (or without a home folder)."""
    try:
        path = DEFAULT_PROFILE.expanduser()
        return path if path.exists() else None
    except (RuntimeError, OSError):  # no home folder to expand ~ to
        return None


# --- the token file ---------------------------------------------------------------------------


def _read_token_file(settings: Settings, path: Path, *, warn: bool) -> str:
    where = f"{_variable(settings, 'token_file')} {shown(path, bare=True)}"
    token = _read_secret_file(
        path,
        where,
        "fix the path",
        "token_file",
        "token_file_readable_by_others",
        warn=warn,
        empty="put the IAM token in it",
    )
    if not is_header_safe(token):
        # Never echo the value: it is a secret.
        raise ConfigError(
            f"{where} holds spaces or control characters inside the token; "
            "put only the token in it",
            setting="token_file",
        )
    remember_secrets(token)
    return token


def _read_secret_file(
    path: Path, where: str, fix: str, setting: str, event: str, *, warn: bool, empty: str
) -> str:
    """A file holding one secret (a token, a header value): read bounded, stripped, not empty."""
    try:
        if warn:
            _warn_if_others_can_read(path, event)
        text = read_at_most(path, SECRET_FILE_LIMIT).decode("utf-8").strip()
    except TooLarge as error:
        raise ConfigError(
            f"{where} is larger than {size_text(error.limit)}: not a token file; {fix}",
            setting=setting,
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"{where} cannot be read ({_reason(error)}); {fix}", setting=setting
        ) from None
    if not text:
        raise ConfigError(f"{where} is empty; {empty}", setting=setting)
    return text


# --- the profile file -------------------------------------------------------------------------


def _read_profile(path: Path, settings: Settings, *, warn: bool) -> Credentials:
    """``[basic]`` ``ak``, ``sk`` and optional ``security_token``, ``project_id``; or, first
    (as the SDK has it), ``idp_id`` and ``id_token_file`` with optional ``iam_endpoint``."""
    given_by = _named(settings, "credentials_file") if settings.credentials_file else None
    where = f"credentials file {shown(path, bare=True)}" + (
        f" (from {given_by})" if given_by else ""
    )
    fix = (
        f"fix it, or point {how_to_set(settings, 'credentials_file')} elsewhere; it needs a "
        f"[{_SECTION}] section with ak = ... and sk = ... (or idp_id = ... and "
        "id_token_file = ...)"
    )
    try:
        if warn:
            _warn_if_others_can_read(path, "credentials_file_readable_by_others")
        text = read_at_most(path, SECRET_FILE_LIMIT).decode("utf-8")
    except TooLarge as error:
        raise ConfigError(
            f"{where} is larger than {size_text(error.limit)}: not a credentials file; {fix}",
            setting="credentials_file",
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"{where} cannot be read ({_reason(error)}); {fix}", setting="credentials_file"
        ) from None
    # No interpolation: a "%" in a secret key is just a character.
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as error:
        raise ConfigError(
            f"{where} is not an INI file ({_ini_problem(error)}); {fix}",
            setting="credentials_file",
        ) from None
    if not parser.has_section(_SECTION):
        raise ConfigError(f"{where} has no [{_SECTION}] section; {fix}", setting="credentials_file")
    section = parser[_SECTION]
    project_id = _profile_project_id(section.get("project_id", "").strip() or None, where, settings)
    iam_endpoint = _profile_iam_endpoint(section, where)
    idp_id = section.get("idp_id", "").strip()
    id_token_file = section.get("id_token_file", "").strip()
    if idp_id and id_token_file:
        return _profile_federation(path, section, where, project_id, iam_endpoint, warn=warn)
    ak, sk = section.get("ak", "").strip(), section.get("sk", "").strip()
    missing = [name for name, value in (("ak", ak), ("sk", sk)) if not value]
    if missing:
        raise ConfigError(
            f"{where}: [{_SECTION}] has no {' and no '.join(missing)}; {fix}",
            setting="credentials_file",
        )
    security_token = section.get("security_token", "").strip() or None
    for name, value in (("ak", ak), ("sk", sk), ("security_token", security_token)):
        if value is not None and not is_header_safe(value):
            # Never echo the value: it is a secret.
            raise ConfigError(
                f"{where}: [{_SECTION}] {name} contains spaces or control characters; "
                "check how it was copied",
                setting="credentials_file",
            )
    remember_secrets(ak, sk, security_token)
    return Credentials(
        "access-key",
        f"profile file {path}",
        keys=AkSkCredentials(ak, sk, security_token),
        profile_project_id=project_id,
        profile_iam_endpoint=iam_endpoint,
    )


def _profile_iam_endpoint(section: configparser.SectionProxy, where: str) -> str | None:
    iam_endpoint = section.get("iam_endpoint", "").strip() or None
    check_url = SPECS_BY_NAME["iam_endpoint"].check
    problem = check_url(iam_endpoint) if check_url and iam_endpoint else None
    if problem:
        raise ConfigError(
            f"{where}: [{_SECTION}] iam_endpoint {problem}", setting="credentials_file"
        )
    return iam_endpoint.rstrip("/") if iam_endpoint else None


def _profile_project_id(project_id: str | None, where: str, settings: Settings) -> str | None:
    check = SPECS_BY_NAME["project_id"].check
    problem = check(project_id) if check else None
    if problem:
        raise ConfigError(
            f"{where}: [{_SECTION}] project_id {problem}; fix it, or remove it and set "
            f"{how_to_set(settings, 'project_id')}",
            setting="credentials_file",
        )
    return project_id


def _profile_federation(
    path: Path,
    section: configparser.SectionProxy,
    where: str,
    project_id: str | None,
    iam_endpoint: str | None,
    *,
    warn: bool,
) -> Credentials:
    """``[basic]`` ``idp_id`` and ``id_token_file``: ID-token federation, as the SDK reads it."""
    token_path = Path(section["id_token_file"].strip()).expanduser()
    token_where = f"{where}: [{_SECTION}] id_token_file {shown(token_path, bare=True)}"
    read_id_token(token_path, token_where, f"fix id_token_file in {path}", "credentials_file",
                  warn=warn)  # fmt: skip
    federation = IdTokenFederation(
        section["idp_id"].strip(),
        token_path,
        iam_endpoint,
        check=f"check idp_id and the ID token in id_token_file in {path}",
        setting="credentials_file",
    )
    return Credentials(
        "id-token",
        f"profile file {path}",
        exchange=federation,
        profile_project_id=project_id,
        profile_iam_endpoint=iam_endpoint,
    )


def _ini_problem(error: configparser.Error) -> str:
    # configparser's own messages quote the offending line, which may hold the secret key.
    if isinstance(error, configparser.MissingSectionHeaderError):
        return f"line {error.lineno} comes before any [section] header"
    if isinstance(error, configparser.DuplicateSectionError | configparser.DuplicateOptionError):
        return f"line {error.lineno} repeats a section or key"
    if isinstance(error, configparser.ParsingError):
        lines = ", ".join(str(lineno) for lineno, _ in error.errors)
        return f"line {lines} is neither a [section] header nor key = value"
    return type(error).__name__


def _reason(error: OSError | UnicodeDecodeError) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8 text"
    return error.strerror or type(error).__name__


_warned: set[Path] = set()


def _warn_if_others_can_read(path: Path, event: str) -> None:
    """Warn, as ssh does for keys, when group or others may read a file holding a secret."""
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    # Only a file of its own: /dev/stdin or a pipe (--token-file <(...)) has no mode to fix.
    if stat.S_ISREG(info.st_mode) and mode & 0o077 and path not in _warned:
        _warned.add(path)  # once per file: the settings may be checked more than once
        library_log().warning(event, path=str(path), mode=f"{mode:04o}", fix=f"chmod 600 {path}")
