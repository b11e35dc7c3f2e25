"""Settings: every knob waiter has, its default, and the checks that keep it sane.

How each setting is named and parsed everywhere lives in one table, ``_table.SPECS``; where
the given values come from, in ``_load``. :func:`load_settings` puts the two together and
remembers, on the Settings it makes, where each value came from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from .._errors import ConfigError
from ._load import layer, said_as
from ._secrets import check_header_value, check_secret, key_pair_problem
from ._table import SPECS, SPECS_BY_NAME, format_duration

__all__ = ["Loaded", "Settings", "load_settings", "source_of"]

OutputFormat = Literal["auto", "json", "text"]
LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["debug", "info", "warning", "error"]
CredentialSource = Literal["auto", "ecs-metadata"]


# Each field's default, from the settings table: the one place defaults are written, which
# --help reads too (without loading this module).
_DEFAULT: dict[str, Any] = {spec.name: spec.default for spec in SPECS}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a wait needs. Field names are the config keys without their section.

    Build it in code (``Settings(project_id=..., region=..., token=...)``) or read it the way the
    command line does with :meth:`Settings.load`. Values are checked on construction; a bad one
    raises :class:`waiter.ConfigError` naming the field (``timeout must be more than 0``).
    Times are seconds (floats); the command line and config file also take durations.
    """

    region: str | None = None
    endpoint: str | None = None
    project_id: str | None = None
    token_file: Path | None = None
    credentials_file: Path | None = None
    # "ecs-metadata": fall back on the ECS metadata service's temporary credentials.
    source: CredentialSource = _DEFAULT["source"]
    metadata_url: str = _DEFAULT["metadata_url"]
    # None: https://iam.{region}.myhuaweicloud.com, asked for the project ID when none is given.
    iam_endpoint: str | None = None
    # None: https://sts.{region}.myhuaweicloud.com, for an OIDC agency's temporary keys.
    sts_endpoint: str | None = None
    timeout: float = _DEFAULT["timeout"]
    min_interval: float = _DEFAULT["min_interval"]
    max_interval: float = _DEFAULT["max_interval"]
    max_in_flight: int = _DEFAULT["max_in_flight"]
    rate: float = _DEFAULT["rate"]
    fail_fast: bool = _DEFAULT["fail_fast"]  # a task that ends in failure cancels the others
    fail_fast_errors: bool = _DEFAULT["fail_fast_errors"]  # and one that ends in error
    not_found_grace: float = _DEFAULT["not_found_grace"]
    request_timeout: float = _DEFAULT["request_timeout"]
    bulk: Literal["auto", "on", "off"] = _DEFAULT["bulk"]
    ca_bundle: Path | None = None
    allow_insecure_http: bool = _DEFAULT["allow_insecure_http"]
    # None: the API's own statuses (kps: SUCCESS_* / FAILED_* / READY_*, RUNNING_*).
    success: tuple[str, ...] | None = None
    failure: tuple[str, ...] | None = None
    pending: tuple[str, ...] | None = None
    api: Literal["kps", "ecs-job", "http"] = _DEFAULT["api"]
    url_template: str | None = None
    status_field: str | None = None
    # --api http sends the Huawei credentials to the URL template's host only when asked.
    api_huawei_auth: bool = _DEFAULT["api_huawei_auth"]
    # The API's own credentials: this header, its value from api_auth or api_auth_file.
    api_auth_header: str = _DEFAULT["api_auth_header"]
    api_auth_file: Path | None = None
    output: OutputFormat = _DEFAULT["output"]
    progress: bool = _DEFAULT["progress"]
    progress_every: float = _DEFAULT["progress_every"]
    junit_xml: Path | None = None
    summary_file: Path | None = None
    log_format: LogFormat = _DEFAULT["log_format"]
    log_level: LogLevel = _DEFAULT["log_level"]
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
    oidc_audience: str = _DEFAULT["oidc_audience"]
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
        # In code, a setting is its field: "timeout must be more than 0", not --timeout.
        check_values(lambda name: getattr(self, name), lambda name: name)

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
    value raises ConfigError naming it as it was given: ``--timeout``, ``WAITER_TIMEOUT in the
    environment``, ``poll.timeout in config file ~/.config/waiter/config.toml``.
    """
    layers = layer(flags=flags, config_path=config_path, env=env)
    sources = dict(layers.sources)
    values = layers.values

    def named(name: str) -> str:
        spec = SPECS_BY_NAME[name]
        source = sources.get(name)
        # A default is changed with the flag, else the key: say that one.
        return said_as(spec, source) if source else spec.flag or spec.label

    # The same checks Settings makes, worded for the command line, before Settings makes them.
    check_values(lambda name: values[name] if name in values else _DEFAULT[name], named)
    settings = Settings(**values)  # type: ignore[arg-type]  # parsed by the table
    # Frozen, as every Settings is; this is the one place that records where values came from.
    object.__setattr__(settings, "_sources", MappingProxyType(sources))
    return Loaded(settings, MappingProxyType(sources), layers.config_file)


def check_values(value: Callable[[str], Any], named: Callable[[str], str]) -> None:
    """Raise ConfigError for the first bad setting: each one's check in the table, then those
    that look at two settings, then the secrets (never echoed).

    ``value`` gives a setting's value; ``named`` its name in the caller's words: the field in
    code (``timeout``), the flag, variable or config key on the command line.
    """
    for spec in SPECS:
        if spec.check is not None:
            problem = spec.check(value(spec.name))
            if problem:
                raise ConfigError(f"{named(spec.name)} {problem}", setting=spec.name)
    shortest, longest = value("min_interval"), value("max_interval")
    if longest < shortest:
        low, high = named("min_interval"), named("max_interval")
        raise ConfigError(
            f"{low} ({format_duration(shortest)}) is more than {high} "
            f"({format_duration(longest)}): make the shortest wait between polls at most the "
            "longest",
            setting="min_interval",
        )
    secrets = ("token", "access_key", "secret_key", "security_token")
    for name in (*secrets, "oidc_id_token", "github_request_token"):
        check_secret(name, value(name), said_as=named(name))
    # The environment's pairs are checked where their variables are known (_load); this
    # catches the same mistakes in settings given in code.
    pair = ("access_key", "secret_key", "security_token")
    pair_problem = key_pair_problem(
        (named(pair[0]), named(pair[1]), named(pair[2])),
        {named(name) for name in pair if value(name)},
    )
    if pair_problem is not None:
        message, setting = pair_problem
        raise ConfigError(message, setting=setting)
    check_header_value("api_auth", value("api_auth"), said_as=named("api_auth"))


def source_of(settings: Settings, name: str) -> str | None:
    """Where a setting's value came from, when the settings were loaded (else None)."""
    return settings._sources.get(name)
