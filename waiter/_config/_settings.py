"""Settings: every knob waiter has, its default, and the checks that keep it sane.

How each setting is named and parsed everywhere lives in one table, ``_table.SPECS``; where
the given values come from, in ``_load``. :func:`load_settings` puts the two together and
remembers, on the Settings it makes, where each value came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Literal

from .._errors import ConfigError
from ._load import layer
from ._secrets import check_header_value, check_secret, key_pair_problem
from ._table import DEFAULT_API_AUTH_HEADER, DEFAULT_METADATA_URL, DEFAULT_OIDC_AUDIENCE, SPECS

__all__ = ["Loaded", "Settings", "load_settings", "source_of"]

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
    # None: https://sts.{region}.myhuaweicloud.com, for an OIDC agency's temporary keys.
    sts_endpoint: str | None = None
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
    # Keyless sources, read from the SDK's variables (see README, "Keyless CI"). ID-token
    # federation: IAM exchanges the ID token in id_token_file for temporary keys.
    idp_id: str | None = None
    id_token_file: Path | None = None
    # An OIDC agency: STS exchanges an ID token (given, in a file, or from GitHub Actions).
    oidc_provider_urn: str | None = None
    oidc_agency_urn: str | None = None
    oidc_id_token: str | None = field(default=None, repr=False)
    oidc_token_file: Path | None = None
    oidc_session_name: str | None = None
    oidc_duration_seconds: int | None = None
    oidc_policy: str | None = None
    oidc_policy_ids: tuple[str, ...] | None = None
    oidc_audience: str = DEFAULT_OIDC_AUDIENCE
    # GitHub Actions' own variables, in a job with permissions id-token: write.
    github_token_url: str | None = field(default=None, repr=False)
    github_request_token: str | None = field(default=None, repr=False)
    # Pod identity (CCE): the pod's credentials endpoint and the token file it wants.
    pod_credentials_uri: str | None = None
    pod_token_file: Path | None = None

    # Where each value came from ("environment HUAWEICLOUD_SDK_AK"), for messages that name a
    # source. Set by load_settings only; not a setting, so not a field (and not copied by
    # dataclasses.replace: a value changed in code no longer comes from where it was read).
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
        secrets = ("token", "access_key", "secret_key", "security_token")
        for name in (*secrets, "oidc_id_token", "github_request_token"):
            check_secret(name, getattr(self, name))
        _check_key_pair(self)
        check_header_value("api_auth", self.api_auth)

    @classmethod
    def load(
        cls, config_path: str | Path | None = None, env: dict[str, str] | None = None
    ) -> Settings:
        """Read the config file and the environment exactly as the command line does.

        ``config_path=None`` finds the file as the command line does (``$WAITER_CONFIG``, then
        ``$XDG_CONFIG_HOME/waiter/config.toml``); ``env=None`` means ``os.environ``.
        """
        return load_settings(config_path=config_path, env=env).settings


@dataclass(frozen=True)
class Loaded:
    """Settings as loaded, for each setting the place its value came from, and the file read."""

    settings: Settings
    sources: Mapping[str, str]
    config_file: Path | None


def load_settings(
    *,
    flags: Mapping[str, object] | None = None,
    config_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Loaded:
    """Defaults, config file, environment and flags, layered into checked :class:`Settings`.

    ``flags`` maps setting names to raw flag values (only the flags that were given). A bad
    value raises ConfigError saying where it came from.
    """
    layers = layer(flags=flags, config_path=config_path, env=env)
    sources = dict(layers.sources)
    try:
        settings = Settings(**layers.values)  # type: ignore[arg-type]  # parsed by the table
    except ConfigError as error:
        source = sources.get(error.setting or "")
        if source:
            raise ConfigError(
                f"{error} (the value came from {source})", setting=error.setting
            ) from None
        raise
    # Frozen, as every Settings is; this is the one place that records where values came from.
    object.__setattr__(settings, "_sources", MappingProxyType(sources))
    return Loaded(settings, MappingProxyType(sources), layers.config_file)


def _check_key_pair(settings: Settings) -> None:
    # The environment's pairs are checked where their variables are known (_load); this
    # catches the same mistakes in settings given in code.
    names = ("access_key", "secret_key", "security_token")
    problem = key_pair_problem(names, {name for name in names if getattr(settings, name)})
    if problem is not None:
        message, setting = problem
        raise ConfigError(message, setting=setting)


def source_of(settings: Settings, name: str) -> str | None:
    """Where a setting's value came from, when the settings were loaded (else None)."""
    return settings._sources.get(name)
