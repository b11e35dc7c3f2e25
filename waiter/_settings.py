"""Settings: every knob waiter has, its default, and the checks that keep it sane.

One table, ``SPECS``, describes each setting once: its config key, flag, environment variables
and parser. The command line, the config-file reader, ``--show-config``, the README's table and
``config.example.toml`` all follow it, so they cannot drift apart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from ._errors import ConfigError

__all__ = ["DEFAULT_METADATA_URL", "SPECS", "SPECS_BY_NAME", "Settings", "Spec", "source_of"]

OutputFormat = Literal["auto", "json", "text"]
LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["debug", "info", "warning", "error"]
CredentialSource = Literal["auto", "ecs-metadata"]

# Where an ECS asks for the temporary credentials of its agency (the SDK's address).
DEFAULT_METADATA_URL = "http://169.254.169.254/openstack/latest/securitykey"

# Region names are spliced into a host name, so only what a real region can contain.
_REGION = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Project IDs go into the URL path: the same safe alphabet as task IDs.
_PROJECT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


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

    @classmethod
    def load(
        cls, config_path: str | Path | None = None, env: dict[str, str] | None = None
    ) -> Settings:
        """Read the config file and the environment exactly as the command line does.

        ``config_path=None`` finds the file as the command line does (``$WAITER_CONFIG``, then
        ``$XDG_CONFIG_HOME/waiter/config.toml``); ``env=None`` means ``os.environ``.
        """
        from ._config import resolve

        return resolve(config_path=config_path, env=env).settings


def is_header_safe(value: str) -> bool:
    return bool(value) and all(33 <= ord(ch) < 127 for ch in value)


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


# --- parsers: raw value (TOML value, environment string or flag string) -> typed value ---------
# Each raises ValueError whose text completes "must be ...".


def parse_seconds(raw: object) -> float:
    value = _number(raw, "a number of seconds")
    return float(value)


def parse_count(raw: object) -> int:
    value = _number(raw, "a whole number")
    if value != int(value):
        raise ValueError("a whole number")
    return int(value)


def _number(raw: object, expected: str) -> float:
    if isinstance(raw, bool):
        raise ValueError(expected)
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(expected) from None
    else:
        raise ValueError(expected)
    if not math.isfinite(value):
        raise ValueError(expected)
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise ValueError("true or false")


def parse_text(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("a non-empty string")
    return raw.strip()


def parse_path(raw: object) -> Path:
    return Path(parse_text(raw)).expanduser()


def parse_patterns(raw: object) -> tuple[str, ...]:
    items: Sequence[object] = [raw] if isinstance(raw, str) else raw  # type: ignore[assignment]
    if not isinstance(items, list | tuple) or not items:
        raise ValueError('a list of status patterns such as ["SUCCESS_*"]')
    patterns = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValueError("a list of non-empty status patterns")
        patterns.append(item.strip())
    return tuple(patterns)


def choice(*options: str) -> Callable[[object], str]:
    def parse(raw: object) -> str:
        if isinstance(raw, str) and raw.strip().lower() in options:
            return raw.strip().lower()
        raise ValueError("one of " + ", ".join(options))

    return parse


# --- checks on the typed value: return a problem ("must be ...") or None -----------------------


def _more_than_zero(value: float) -> str | None:
    return None if value > 0 else f"must be more than 0, got {value:g}"


def _not_negative(value: float) -> str | None:
    return None if value >= 0 else f"must be 0 or more, got {value:g}"


def _region(value: str | None) -> str | None:
    if value is None or _REGION.fullmatch(value):
        return None
    return f"must be a region name such as cn-north-4, got {value!r}"


def _project_id(value: str | None) -> str | None:
    if value is None or (_PROJECT_ID.fullmatch(value) and value not in {".", ".."}):
        return None
    return f"must be 1-64 characters of A-Z a-z 0-9 . _ -, got {value!r}"


def _http_url(example: str) -> Callable[[str | None], str | None]:
    def check(value: str | None) -> str | None:
        if value is None or re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            return None
        return f"must be an http(s) URL such as {example}, got {value!r}"

    return check


_endpoint = _http_url("https://kms.cn-north-4.myhuaweicloud.com")


def _url_template(value: str | None) -> str | None:
    if value is None:
        return None
    if "{task_id}" not in value or _endpoint(value.split("{", 1)[0].rstrip("/") or "x"):
        return f"must be an http(s) URL containing {{task_id}}, got {value!r}"
    return None


@dataclass(frozen=True)
class Spec:
    """How one setting is named, parsed and checked in every place it can be given."""

    name: str
    key: str | None
    parse: Callable[[object], object]
    help: str
    flag: str | None = None
    env: tuple[str, ...] = ()
    check: Callable[[Any], str | None] | None = None
    secret: bool = False
    # For a true/false setting: the value its flag sets (--no-progress sets False).
    flag_sets: bool = True

    @property
    def label(self) -> str:
        return self.key or self.name

    def how_to_set(self) -> str:
        ways = [w for w in (self.flag, *self.env) if w]
        if self.key:
            ways.append(f"{self.key} in the config file")
        return "set it with " + " or ".join(ways) if ways else "set it in code"


SPECS: tuple[Spec, ...] = (
    Spec("region", "kps.region", parse_text, "cloud region, e.g. cn-north-4",
          flag="--region", env=("WAITER_REGION", "HW_REGION_NAME", "OS_REGION_NAME"),
          check=_region),
    Spec("endpoint", "kps.endpoint", parse_text,
          "API endpoint; default https://kms.{region}.myhuaweicloud.com",
          flag="--endpoint", env=("WAITER_ENDPOINT",), check=_endpoint),
    Spec("project_id", "kps.project_id", parse_text, "project ID the tasks belong to",
          flag="--project-id",
          env=("WAITER_PROJECT_ID", "HUAWEICLOUD_SDK_PROJECT_ID", "HW_PROJECT_ID", "OS_PROJECT_ID"),
          check=_project_id),
    Spec("token_file", "auth.token_file", parse_path,
          "file holding an IAM token (the environment may give the token itself)",
          flag="--token-file"),
    Spec("credentials_file", "auth.credentials_file", parse_path,
          "profile file with AK/SK ([basic] ak, sk); default ~/.huaweicloud/credentials",
          env=("HUAWEICLOUD_SDK_CREDENTIALS_FILE",)),
    Spec("source", "auth.source", choice("auto", "ecs-metadata"),
          "auto = token, then AK/SK from the environment, then the profile file; ecs-metadata "
          "= also the ECS metadata service's temporary credentials, last",
          env=("WAITER_AUTH_SOURCE",)),
    Spec("metadata_url", "auth.metadata_url", parse_text,
          "where auth.source = ecs-metadata fetches temporary credentials",
          check=_http_url(DEFAULT_METADATA_URL)),
    Spec("iam_endpoint", "auth.iam_endpoint", parse_text,
          "IAM endpoint that finds the project ID (AK/SK without one); default "
          "https://iam.{region}.myhuaweicloud.com",
          flag="--iam-endpoint", env=("HUAWEICLOUD_SDK_IAM_ENDPOINT",),
          check=_http_url("https://iam.cn-north-4.myhuaweicloud.com")),
    Spec("timeout", "poll.timeout", parse_seconds, "overall deadline, seconds",
          flag="--timeout", env=("WAITER_TIMEOUT",), check=_more_than_zero),
    Spec("min_interval", "poll.min_interval", parse_seconds,
          "shortest wait between polls of a task, seconds",
          flag="--min-interval", check=_more_than_zero),
    Spec("max_interval", "poll.max_interval", parse_seconds,
          "longest wait between polls of a task, seconds",
          flag="--max-interval", check=_more_than_zero),
    Spec("max_in_flight", "poll.max_in_flight", parse_count, "requests in flight at once",
          flag="--max-in-flight", check=_more_than_zero),
    Spec("rate", "poll.rate", parse_seconds, "requests per second, all tasks together",
          flag="--rate", check=_more_than_zero),
    Spec("fail_fast", "poll.fail_fast", parse_bool, "stop at the first failed task",
          flag="--fail-fast"),
    Spec("not_found_grace", "poll.not_found_grace", parse_seconds,
          "how long 'task not found' is retried, seconds",
          flag="--not-found-grace", check=_not_negative),
    Spec("request_timeout", "poll.request_timeout", parse_seconds,
          "per-request time-out, seconds", flag="--request-timeout", check=_more_than_zero),
    Spec("bulk", "poll.bulk", choice("auto", "on", "off"),
          "bulk status listing (KPS running-tasks/failed-tasks); auto = on from 20 pending tasks",
          flag="--bulk"),
    Spec("ca_bundle", "tls.ca_bundle", parse_path, "private CA bundle (PEM); default system store",
          flag="--ca-bundle", env=("SSL_CERT_FILE",)),
    Spec("allow_insecure_http", "tls.allow_insecure_http", parse_bool,
          "allow a plain http:// endpoint that is not on loopback",
          flag="--allow-insecure-http"),
    Spec("success", "status.success", parse_patterns,
          "statuses that mean success; default the API's (kps: SUCCESS_*)", flag="--success"),
    Spec("failure", "status.failure", parse_patterns,
          "statuses that mean failure; default the API's (kps: FAILED_*)", flag="--failure"),
    Spec("pending", "status.pending", parse_patterns,
          "statuses that mean keep waiting; default the API's (kps: READY_*, RUNNING_*)",
          flag="--pending"),
    Spec("api", "api.kind", choice("kps", "ecs-job", "http"),
          "task API: kps, ecs-job (Huawei job API) or http (any JSON API)", flag="--api"),
    Spec("url_template", "api.url_template", parse_text,
          "with --api http: the task URL, with {task_id} and optional {project_id}",
          flag="--url-template", check=_url_template),
    Spec("status_field", "api.status_field", parse_text,
          "with --api http: JSON pointer to the status, e.g. /status/phase",
          flag="--status-field"),
    Spec("output", "output.format", choice("auto", "json", "text"),
          "result format; auto = json when stdout is not a terminal", flag="--output"),
    Spec("progress", "output.progress", parse_bool,
          "live progress line on stderr when it is a terminal", flag="--no-progress",
          flag_sets=False),
    Spec("progress_every", "output.progress_every", parse_seconds,
          "seconds between progress events when stderr is not a terminal",
          flag="--progress-every", check=_more_than_zero),
    Spec("junit_xml", "output.junit_xml", parse_path, "write a JUnit XML report here",
          flag="--junit-xml"),
    Spec("summary_file", "output.summary_file", parse_path,
          "append a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY)", flag="--summary-file"),
    Spec("log_format", "log.format", choice("auto", "json", "console"),
          "log format; auto = json when stderr is not a terminal",
          flag="--log-format", env=("WAITER_LOG_FORMAT",)),
    Spec("log_level", "log.level", choice("debug", "info", "warning", "error"), "log level",
          flag="--log-level", env=("WAITER_LOG_LEVEL",)),
    Spec("token", None, parse_text, "IAM token", secret=True,
          env=("WAITER_AUTH_TOKEN", "HW_AUTH_TOKEN", "OS_AUTH_TOKEN")),
    Spec("access_key", None, parse_text, "access key (AK)", secret=True,
          env=("HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY")),
    Spec("secret_key", None, parse_text, "secret key (SK)", secret=True,
          env=("HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY")),
    Spec("security_token", None, parse_text, "security token of temporary credentials",
          secret=True, env=("HUAWEICLOUD_SDK_SECURITY_TOKEN", "HW_SECURITY_TOKEN")),
)  # fmt: skip

SPECS_BY_NAME = {spec.name: spec for spec in SPECS}
