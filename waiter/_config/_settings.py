"""Settings: every knob waiter has, its default, and the checks that keep it sane.

How each setting is named and parsed everywhere lives in one table, ``_specs.SPECS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Literal

from .._errors import ConfigError
from ._table import DEFAULT_API_AUTH_HEADER, DEFAULT_METADATA_URL, SPECS

__all__ = [
    "Settings",
    "check_header_value",
    "check_secret",
    "is_header_safe",
    "is_header_value_safe",
    "source_of",
]

OutputFormat = Literal["auto", "json", "text"]
LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["debug", "info", "warning", "error"]
CredentialSource = Literal["auto", "ecs-metadata"]


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a wait needs. Field names are the config keys without their section.

    Build it in code (``Settings(project_id=..., region=..., token=...)``) or read it the way the
    command line does with :meth:`Settings.load`. Values are checked on construction; a bad one
    raises :class:`waiter.ConfigError` naming the setting.
    """

    region: str | None = None
    endpoint: str | None = None
    project_id: str | None = None
    token_file: Path | None = None
    credentials_file: Path | None = None
    # "ecs-metadata": fall back on the ECS metadata service's temporary credentials.
    source: CredentialSource = "auto"
    metadata_url: str = DEFAULT_METADATA_URL
    # None: https://iam.{region}.myhuaweicloud.com, asked for the project ID when none is given.
    iam_endpoint: str | None = None
    timeout: float = 1800.0
    min_interval: float = 2.0
    max_interval: float = 20.0
    max_in_flight: int = 32
    rate: float = 10.0
    fail_fast: bool = False
    not_found_grace: float = 30.0
    request_timeout: float = 10.0
    bulk: Literal["auto", "on", "off"] = "auto"
    ca_bundle: Path | None = None
    allow_insecure_http: bool = False
    # None: the API's own statuses (kps: SUCCESS_* / FAILED_* / READY_*, RUNNING_*).
    success: tuple[str, ...] | None = None
    failure: tuple[str, ...] | None = None
    pending: tuple[str, ...] | None = None
    api: Literal["kps", "ecs-job", "http"] = "kps"
    url_template: str | None = None
    status_field: str | None = None
    # --api http sends the Huawei credentials to the URL template's host only when asked.
    api_huawei_auth: bool = False
    # The API's own credentials: this header, its value from api_auth or api_auth_file.
    api_auth_header: str = DEFAULT_API_AUTH_HEADER
    api_auth_file: Path | None = None
    output: OutputFormat = "auto"
    progress: bool = True
    progress_every: float = 30.0
    junit_xml: Path | None = None
    summary_file: Path | None = None
    log_format: LogFormat = "auto"
    log_level: LogLevel = "info"
    # Credentials given in code. Kept out of repr() so they cannot leak into logs or tracebacks.
    token: str | None = field(default=None, repr=False)
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)
    # The value of api_auth_header for --api http ("Bearer abc123").
    api_auth: str | None = field(default=None, repr=False)

    # Where each value came from ("environment HUAWEICLOUD_SDK_AK"), for messages that name a
    # source. Filled by Settings.load and the command line; not a setting, so not a field.
    _sources: ClassVar[Mapping[str, str]] = MappingProxyType({})

    def __post_init__(self) -> None:
        for spec in SPECS:
            if spec.check is not None:
                problem = spec.check(getattr(self, spec.name))
                if problem:
                    raise ConfigError(
                        f"{spec.label} {problem}; {spec.how_to_set()}", setting=spec.name
                    )
        if self.max_interval < self.min_interval:
            raise ConfigError(
                f"poll.min_interval ({self.min_interval:g}) is more than poll.max_interval "
                f"({self.max_interval:g}); make --min-interval at most --max-interval",
                setting="min_interval",
            )
        for name in ("token", "access_key", "secret_key", "security_token"):
            check_secret(name, getattr(self, name))
        _check_key_pair(self.access_key, self.secret_key, self.security_token)
        check_header_value("api_auth", self.api_auth)

    @classmethod
    def load(
        cls, config_path: str | Path | None = None, env: dict[str, str] | None = None
    ) -> Settings:
        """Read the config file and the environment exactly as the command line does.

        ``config_path=None`` finds the file as the command line does (``$WAITER_CONFIG``, then
        ``$XDG_CONFIG_HOME/waiter/config.toml``); ``env=None`` means ``os.environ``.
        """
        from ._load import resolve

        return resolve(config_path=config_path, env=env).settings


def is_header_safe(value: str) -> bool:
    return bool(value) and all(33 <= ord(ch) < 127 for ch in value)


def is_header_value_safe(value: str) -> bool:
    """Printable ASCII, inner spaces allowed ("Bearer abc123"), nothing to strip at the ends."""
    return bool(value) and value == value.strip() and all(32 <= ord(ch) < 127 for ch in value)


def check_header_value(name: str, value: str | None) -> None:
    """A whole header value (scheme and credentials): refuse what cannot be one, unechoed."""
    if value is not None and not is_header_value_safe(value):
        raise ConfigError(
            f"{name} contains control or non-ASCII characters, or is empty; check how it "
            "was copied",
            setting=name,
        )


def check_secret(name: str, value: str | None) -> None:
    """A secret goes into a header: refuse what cannot be one, without ever echoing it."""
    if value is not None and not is_header_safe(value):
        raise ConfigError(
            f"{name} contains spaces or control characters; check how it was copied",
            setting=name,
        )


def _check_key_pair(
    access_key: str | None, secret_key: str | None, security_token: str | None
) -> None:
    # The environment's pairs are checked where their variables are known (_config); this
    # catches the same mistakes in settings given in code.
    if bool(access_key) != bool(secret_key):
        given, missing = (
            ("access_key", "secret_key") if access_key else ("secret_key", "access_key")
        )
        raise ConfigError(
            f"{given} is given without {missing}: an access key and its secret key go "
            "together; give both, or neither",
            setting=missing,
        )
    if security_token and not access_key:
        raise ConfigError(
            "security_token is given without access_key and secret_key: a security token "
            "belongs to a temporary key pair; give all three, or none",
            setting="security_token",
        )


def source_of(settings: Settings, name: str) -> str | None:
    """Where a setting's value came from, when the settings were loaded (else None)."""
    return settings._sources.get(name)
