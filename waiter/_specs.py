"""The table of settings: each one's config key, flag, environment variables and parser.

One table, ``SPECS``, describes each setting once. The command line builds its flags from it,
the config reader and ``--show-config`` follow it, and tests keep the README's table and
``config.example.toml`` in step with it. It imports no more than ``re``, so ``waiter --help``
can build its parser without loading the rest of waiter.
"""

from __future__ import annotations

import math
import re

# Not `from typing import TYPE_CHECKING`: typing costs --help ~10 ms; mypy reads any
# name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any, TypeGuard

__all__ = [
    "DEFAULT_METADATA_URL",
    "SPECS",
    "SPECS_BY_NAME",
    "Spec",
    "is_project_id",
    "parse_bool",
    "parse_patterns",
]

# Where an ECS asks for the temporary credentials of its agency (the SDK's address).
DEFAULT_METADATA_URL = "http://169.254.169.254/openstack/latest/securitykey"

# Region names are spliced into a host name, so only what a real region can contain.
_REGION = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Project IDs go into the URL path: the same safe alphabet as task IDs.
_PROJECT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


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
    from pathlib import Path  # loaded only when a path is given: --help never pays for it

    return Path(parse_text(raw)).expanduser()


def parse_patterns(raw: object) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else raw
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


def is_project_id(value: object) -> TypeGuard[str]:
    """1-64 characters of ``A-Z a-z 0-9 . _ -``, and not ``.`` or ``..``: safe in a URL path."""
    return (
        isinstance(value, str) and bool(_PROJECT_ID.fullmatch(value)) and value not in {".", ".."}
    )


def _project_id(value: str | None) -> str | None:
    if value is None or is_project_id(value):
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


class Spec:
    """How one setting is named, parsed and checked in every place it can be given.

    A plain class rather than a dataclass: the dataclasses module costs --help ~10 ms.
    """

    __slots__ = ("check", "env", "flag", "flag_sets", "help", "key", "name", "parse", "secret")

    def __init__(
        self,
        name: str,
        key: str | None,
        parse: Callable[[object], object],
        help: str,
        *,
        flag: str | None = None,
        env: tuple[str, ...] = (),
        check: Callable[[Any], str | None] | None = None,
        secret: bool = False,
        flag_sets: bool = True,  # for a true/false setting: what its flag sets (--no-progress)
    ) -> None:
        self.name = name
        self.key = key
        self.parse = parse
        self.help = help
        self.flag = flag
        self.env = env
        self.check = check
        self.secret = secret
        self.flag_sets = flag_sets

    def __repr__(self) -> str:
        return f"Spec({self.name!r}, {self.key!r})"

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
