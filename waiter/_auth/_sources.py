"""Which credentials to use, and where they came from.

The order is the contract's, and the official SDK's where they overlap: an IAM token; else an
access key pair from the environment (``HUAWEICLOUD_SDK_*``, then Terraform's ``HW_*``), given
in code, or from the profile file; else, only when ``auth.source = "ecs-metadata"`` asks for it,
the ECS metadata service's temporary credentials (fetched later, asynchronously, by the Waiter).
Only this module reads the token, profile and API auth files.

``--api http`` is the exception to the order: its URL template may name any host, so it gets
no Huawei credentials unless ``api.huawei_auth`` asks for them, and takes the API's own auth
header (:func:`find_api_auth`) instead.
"""

from __future__ import annotations

import configparser
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import structlog

from .._config._files import KIB, TooLarge, read_at_most, size_text
from .._config._secrets import is_header_safe, is_header_value_safe
from .._config._settings import Settings, source_of
from .._config._table import SPECS_BY_NAME, shown
from .._errors import ConfigError
from .._redact import remember_secrets
from ._signing import AkSkCredentials

__all__ = [
    "DEFAULT_PROFILE",
    "NO_HUAWEI_CREDENTIALS",
    "ApiAuthHeader",
    "Credentials",
    "credentials_for",
    "find_api_auth",
    "find_credentials",
]

# The SDK's default profile file: ~/.huaweicloud/credentials, section [basic].
DEFAULT_PROFILE = Path("~/.huaweicloud/credentials")
_SECTION = "basic"
# A token, a key pair or a header value is well under a KiB; this much is not one.
SECRET_FILE_LIMIT = 64 * KIB

Kind = Literal["token", "access-key", "ecs-metadata", "none"]


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
    metadata_url: str | None = None

    @property
    def signs(self) -> bool:
        """Whether requests are signed with an access key (and so IAM can name the project)."""
        return self.kind in ("access-key", "ecs-metadata")

    def describe(self) -> str:
        """One line for ``--show-config``: what is used, from where, and how."""
        if self.kind == "none":
            return self.source
        if self.kind == "token":
            return f"IAM token from {self.source} (sent as X-Auth-Token)"
        if self.kind == "ecs-metadata":
            return (
                f"temporary access key from {self.source}, fetched at start and refreshed "
                "before it expires (signed requests)"
            )
        temporary = "temporary " if self.keys and self.keys.security_token else ""
        project = (
            f"; project ID {self.profile_project_id} from it" if self.profile_project_id else ""
        )
        return f"{temporary}access key from {self.source} (signed requests){project}"


# What --api http uses unless api.huawei_auth asks for the Huawei credentials.
NO_HUAWEI_CREDENTIALS = Credentials(
    "none",
    "no Huawei credentials: --api http sends them to the URL template's host only with "
    "--api-huawei-auth (api.huawei_auth)",
)


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
        return NO_HUAWEI_CREDENTIALS
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
    where = f"api.auth_file {shown(path, bare=True)}"
    fix = "fix the path given by --api-auth-file, WAITER_API_AUTH_FILE or api.auth_file"
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
    if settings.token:
        return Credentials(
            "token", source_of(settings, "token") or "Settings.token", token=settings.token
        )
    if settings.token_file is not None:
        token = _read_token_file(settings.token_file, warn=warn)
        return Credentials("token", f"file {settings.token_file}", token=token)
    if settings.access_key and settings.secret_key:
        keys = AkSkCredentials(settings.access_key, settings.secret_key, settings.security_token)
        source = source_of(settings, "access_key") or "Settings.access_key"
        return Credentials("access-key", source, keys=keys)
    path = settings.credentials_file or _default_profile()
    if path is not None:
        keys, project_id = _read_profile(path, settings, warn=warn)
        return Credentials(
            "access-key", f"profile file {path}", keys=keys, profile_project_id=project_id
        )
    if settings.source == "ecs-metadata":
        return Credentials(
            "ecs-metadata",
            f"the ECS metadata service at {settings.metadata_url}",
            metadata_url=settings.metadata_url,
        )
    raise ConfigError(
        "no credentials: set WAITER_AUTH_TOKEN (or HW_AUTH_TOKEN, OS_AUTH_TOKEN) or "
        "--token-file PATH; or an access key pair (HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, "
        f"or HW_ACCESS_KEY and HW_SECRET_KEY); or a profile file {DEFAULT_PROFILE} "
        '(auth.credentials_file); or, on an ECS with an agency, auth.source = "ecs-metadata"',
        setting="token",
    )


def _default_profile() -> Path | None:
    """The SDK's profile file when it exists; None without one (or without a home folder)."""
    try:
        path = DEFAULT_PROFILE.expanduser()
        return path if path.exists() else None
    except (RuntimeError, OSError):  # no home folder to expand ~ to
        return None


# --- the token file ---------------------------------------------------------------------------


def _read_token_file(path: Path, *, warn: bool) -> str:
    where = f"auth.token_file {shown(path, bare=True)}"
    token = _read_secret_file(
        path,
        where,
        "fix the path given by --token-file or auth.token_file",
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


def _read_profile(
    path: Path, settings: Settings, *, warn: bool
) -> tuple[AkSkCredentials, str | None]:
    """``[basic]`` ``ak``, ``sk`` and optional ``security_token``, ``project_id``."""
    given_by = source_of(settings, "credentials_file")
    where = f"credentials file {shown(path, bare=True)}" + (
        f" (from {given_by})" if given_by else ""
    )
    fix = (
        f"fix it, or point auth.credentials_file (or HUAWEICLOUD_SDK_CREDENTIALS_FILE) "
        f"elsewhere; it needs a [{_SECTION}] section with ak = ... and sk = ..."
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
    project_id = section.get("project_id", "").strip() or None
    check = SPECS_BY_NAME["project_id"].check
    problem = check(project_id) if check else None
    if problem:
        raise ConfigError(
            f"{where}: [{_SECTION}] project_id {problem}; fix it, or remove it and set "
            "--project-id",
            setting="credentials_file",
        )
    return AkSkCredentials(ak, sk, security_token), project_id


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
        structlog.get_logger("waiter").warning(
            event, path=str(path), mode=f"{mode:04o}", fix=f"chmod 600 {path}"
        )
