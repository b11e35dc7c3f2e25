"""Settings: every knob waiter has, its default, and the checks that keep it sane.

How each setting is named and parsed everywhere lives in one table, ``_table.SPECS``; where
the given values come from, in ``_load``. :func:`load_settings` puts the two together and
remembers, on the Settings it makes, where each value came from and who made it, so that a
message names a setting as its user knows it (:func:`named`, :func:`how_to_set`): the field in
code, the flag, variable or config key on the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from .._errors import ConfigError
from ._in_code import check_types
from ._load import layer, said_as
from ._secrets import check_header_value, check_secret, key_pair_problem
from ._table import SPECS, SPECS_BY_NAME, format_duration

__all__ = [
    "Loaded",
    "MadeIn",
    "Settings",
    "all_names",
    "how_to_set",
    "load_settings",
    "made_in",
    "named",
    "source_of",
]

OutputFormat = Literal["auto", "json", "text"]
LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["debug", "info", "warning", "error"]
CredentialSource = Literal["auto", "ecs-metadata"]
# Who made a Settings, which decides how a message names its settings. "code": Settings(...)
# or dataclasses.replace (a value changed in code no longer comes from where it was read): the
# field. "load": Settings.load, which reads the environment and the config file: their
# variables and keys (a flag would mean nothing to it). "command line": load_settings with
# the command line's flags: the flags first, then the variables and keys.
MadeIn = Literal["code", "load", "command line"]


# Each field's default, from the settings table: the one place defaults are written, which
# --help reads too (without loading this module).
_DEFAULT: dict[str, Any] = {spec.name: spec.default for spec in SPECS}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a wait needs. Field names are the config keys without their section.

    Build it in code (``Settings(project_id=..., region=..., token=...)``) or read it the way the
    command line does with :meth:`Settings.load`. Values are checked on construction; a bad one
    raises :class:`waiter.ConfigError` naming the field (``timeout must be more than 0``), and
    so does every later error about a setting of Settings made in code (``no project ID: set
    project_id``). Each field takes the type it is annotated with, and nothing else: a time is
    a finite number of seconds (an int or a float: ``timeout=600``; the command line and config
    file also take durations such as ``10m``), a path a :class:`pathlib.Path`, status patterns
    a tuple (``success=("SUCCESS_*",)``), a switch True or False.
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
    # Who made it: set by load_settings only, like _sources (see MadeIn).
    _made_in: ClassVar[MadeIn] = "code"

    def __post_init__(self) -> None:
        # In code, a setting is its field: "timeout must be more than 0", not --timeout. The
        # types first: the checks compare numbers and match strings.
        check_types(lambda name: getattr(self, name))
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

    ``flags`` maps setting names to raw flag values (only the flags that were given); only
    the command line passes them (an empty mapping when it was given none), and that makes
    the settings its own: later messages name flags too (see :data:`MadeIn`). A bad value
    raises ConfigError naming it as it was given: ``--timeout``, ``WAITER_TIMEOUT in the
    environment``, ``poll.timeout in config file ~/.config/waiter/config.toml``.
    """
    layers = layer(flags=flags, config_path=config_path, env=env)
    sources = MappingProxyType(dict(layers.sources))
    values = layers.values
    made: MadeIn = "load" if flags is None else "command line"

    # The same checks Settings makes, worded for the command line, before Settings makes them.
    check_values(
        lambda name: values[name] if name in values else _DEFAULT[name],
        lambda name: _named(made, sources, name),
    )
    settings = Settings(**values)  # type: ignore[arg-type]  # parsed by the table
    # Frozen, as every Settings is; this is the one place that records where values came from
    # and who made them.
    object.__setattr__(settings, "_sources", sources)
    object.__setattr__(settings, "_made_in", made)
    return Loaded(settings, sources, layers.config_file)


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
        # Both from one place ("... in config file ~/w.toml"): say the place once, at the end.
        # A name is one word (a field, flag, variable or key), so its place follows " in ".
        low_name, _, low_place = low.partition(" in ")
        high_name, _, high_place = high.partition(" in ")
        place = ""
        if low_place and low_place == high_place:
            low, high, place = low_name, high_name, f" in {low_place}"
        raise ConfigError(
            f"{low} ({format_duration(shortest)}) is more than {high} "
            f"({format_duration(longest)}){place}: make the shortest wait between polls at most "
            "the longest",
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


def made_in(settings: Settings) -> MadeIn:
    """Who made ``settings``: in code, by :meth:`Settings.load`, or on the command line."""
    return settings._made_in


def named(settings: Settings, name: str, *, place: bool = True) -> str:
    """Setting ``name`` as the user who made ``settings`` knows it, for a message about its
    value: the field in code (``endpoint``); when loaded, where it was given (``--endpoint``,
    ``WAITER_ENDPOINT in the environment``, ``kps.endpoint in config file ~/w.toml``), or for a
    default the first name that would give it (the flag on the command line, else a variable,
    else the config key). ``place=False`` leaves out where, for a message that puts the value
    right after the name (``WAITER_TOKEN_FILE /run/token``)."""
    made, source = settings._made_in, settings._sources.get(name)
    if place or made == "code" or not source:
        return _named(made, settings._sources, name)
    kind, _, given = source.partition(" ")
    return given if kind in ("flag", "environment") else SPECS_BY_NAME[name].label


def how_to_set(settings: Settings, name: str) -> str:
    """How the user who made ``settings`` gives setting ``name``, for a message asking for it:
    the field in code (``project_id``); when loaded, every name that gives it, the first one
    first: ``--project-id (or WAITER_PROJECT_ID, ..., kps.project_id)`` on the command line,
    the same without the flag for :meth:`Settings.load`."""
    first, *others = _ways(settings._made_in, name)
    return f"{first} (or {', '.join(others)})" if others else first


def all_names(name: str) -> str:
    """Setting ``name`` by the names of both kinds of user, for text that either may read
    (a task's result, made below the plan, which does not know who made the settings):
    ``pending (--pending, status.pending)``."""
    spec = SPECS_BY_NAME[name]
    # The flag and the key, or, for a setting that has neither (a secret), its variable.
    others = [way for way in (spec.flag, spec.key) if way] or list(spec.env[:1])
    return f"{name} ({', '.join(others)})" if others else name


def _named(made: MadeIn, sources: Mapping[str, str], name: str) -> str:
    source = sources.get(name)
    if made != "code" and source:
        return said_as(SPECS_BY_NAME[name], source)
    return _ways(made, name)[0]


def _ways(made: MadeIn, name: str) -> list[str]:
    if made == "code":
        return [name]
    return SPECS_BY_NAME[name].ways(flag=made == "command line") or [name]
