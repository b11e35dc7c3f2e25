"""The table of settings: each one's config key, flag, environment variables and parser.

One table, ``SPECS``, describes each setting once. The command line builds its flags from it,
the config reader and ``--show-config`` follow it, and tests keep the README's table and
``config.example.toml`` in step with it. It imports no more than ``re``, so ``waiter --help``
can build its parser without loading the rest of waiter.
"""

from __future__ import annotations

import math
import re

from .._lazy import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeGuard

__all__ = [
    "DEFAULT_API_AUTH_HEADER",
    "DEFAULT_METADATA_URL",
    "DEFAULT_OIDC_AUDIENCE",
    "DURATION_EXAMPLES",
    "GROUPS",
    "SPECS",
    "SPECS_BY_NAME",
    "Spec",
    "access_key_families",
    "choice",
    "format_duration",
    "is_project_id",
    "parse_bool",
    "parse_path",
    "parse_patterns",
    "parse_seconds",
    "shown",
]

# Where an ECS asks for the temporary credentials of its agency (the SDK's address).
DEFAULT_METADATA_URL = "http://169.254.169.254/openstack/latest/securitykey"

# The audience waiter asks GitHub Actions' ID tokens for (WAITER_OIDC_AUDIENCE): the client ID
# the IAM identity provider is configured with must be the same.
DEFAULT_OIDC_AUDIENCE = "sts.myhuaweicloud.com"

# The header --api http sends the API's own credentials in (WAITER_API_AUTH, api.auth_file).
DEFAULT_API_AUTH_HEADER = "Authorization"

# The patterns are compiled on first use (re caches them), not on import: --help, which loads
# this table, would pay for compiling them.
# Region names are spliced into a host name, so only what a real region can contain.
_REGION = r"[a-z0-9]+(?:-[a-z0-9]+)*"
# Project IDs go into the URL path: the same safe alphabet as task IDs.
_PROJECT_ID = r"[A-Za-z0-9._-]{1,64}"


# How much of a value an error message quotes: a whole value up to _SHOWN_WHOLE characters,
# else its first _SHOWN_CUT and its length (a 50 MB task ID must not come back as 50 MB of error).
_SHOWN_WHOLE = 200
_SHOWN_CUT = 40


def shown(value: object, *, bare: bool = False) -> str:
    """``value`` as an error message quotes it: repr()'d, and cut when it is long.

    ``bare=True`` (for paths) leaves a short value of printable characters unquoted, as
    messages show paths; anything else is quoted, so that a newline or a control character
    cannot break the message's one line.
    """
    if isinstance(value, str):
        text = value
    elif hasattr(value, "__fspath__"):  # a path
        text = str(value)
    else:
        text = repr(value)  # a number, list or table from TOML: as Python writes it
        bare = True
    if len(text) > _SHOWN_WHOLE:
        return f"{text[:_SHOWN_CUT]!r}… ({len(text)} characters)"
    if bare and text.isprintable():
        return text
    return repr(text)


# --- parsers: raw value (TOML value, environment string or flag string) -> typed value ---------
# Each raises ValueError whose text completes "must be ...".

# What a time may be written as, for messages and --help.
DURATION_EXAMPLES = "90, 1.5s, 10m or 1h30m"
_SECONDS = f"seconds or a duration such as {DURATION_EXAMPLES}"
# A duration: hours, minutes, seconds, milliseconds, each at most once and in that order
# (Go's and kubectl's spelling). "m(?!s)": the m of 500ms is not minutes.
_NUMBER = r"(\d+(?:\.\d+)?)"
_DURATION = rf"(?:{_NUMBER}h)?(?:{_NUMBER}m(?!s))?(?:{_NUMBER}s)?(?:{_NUMBER}ms)?"
_UNITS = (3600.0, 60.0, 1.0, 0.001)


def parse_seconds(raw: object) -> float:
    """A time: plain seconds (``90``, ``1.5``, a TOML number) or a duration (``1h30m``)."""
    try:
        return _number(raw, _SECONDS)
    except ValueError:
        if not isinstance(raw, str):
            raise
    match = re.fullmatch(_DURATION, raw.strip())
    if match is None or not any(match.groups()):
        raise ValueError(_SECONDS)
    seconds = sum(float(n) * unit for n, unit in zip(match.groups(), _UNITS, strict=True) if n)
    if not math.isfinite(seconds):  # a thousand digits of hours
        raise ValueError(_SECONDS)
    return seconds


def format_duration(seconds: float) -> str:
    """``seconds`` as :func:`parse_seconds` reads back exactly: 1800 -> 30m, 5400 -> 1h30m,
    2.5 -> 2.5s. Only whole seconds are split into hours and minutes: a sum of float parts
    need not come back to the same float."""
    seconds = float(seconds)  # code may give an int
    if seconds < 0 or not math.isfinite(seconds):
        return repr(seconds)  # every check refuses it; a message shows it as given
    if not seconds.is_integer():
        text = repr(seconds)
        return text if "e" in text else f"{text}s"  # 1e-05: plain seconds, still exact
    hours, rest = divmod(int(seconds), 3600)
    minutes, whole = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (whole, "s")) if n]
    return "".join(parts) or "0s"


def parse_whole_seconds(raw: object) -> int:
    """A time in whole seconds, as plain seconds or a duration (``3600``, ``1h``)."""
    seconds = parse_seconds(raw)
    if not seconds.is_integer():
        raise ValueError("a whole number of seconds or a duration such as 900 or 1h")
    return int(seconds)


def parse_number(raw: object) -> float:
    return _number(raw, "a number")


def parse_count(raw: object) -> int:
    value = _number(raw, "a whole number")
    if value != int(value):
        raise ValueError("a whole number")
    return int(value)


def _number(raw: object, expected: str) -> float:
    if isinstance(raw, bool):
        raise ValueError(expected)
    if isinstance(raw, int | float):
        try:
            value = float(raw)
        except OverflowError:  # a TOML integer of hundreds of digits
            raise ValueError(expected) from None
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
    raise ValueError("true or false (or 1/0, yes/no, on/off)")


def parse_text(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("a non-empty string")
    return raw.strip()


def parse_path(raw: object) -> str:
    """A path's text. The loader makes the Path of it (``_load.as_path``): pathlib would cost
    ``--help``, which loads this table, several milliseconds."""
    text = parse_text(raw)
    if "\0" in text:  # TOML can write one ("\u0000"); no file name holds it
        raise ValueError("a path without NUL characters")
    return text


def parse_patterns(raw: object) -> tuple[str, ...]:
    """Status patterns: a TOML list, repeated flags, or comma-separated (``A_*,B_*``), as an
    environment variable can only give them."""
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not items:
        raise ValueError('a list of status patterns such as ["SUCCESS_*"] or SUCCESS_*,DONE')
    patterns = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValueError("a list of non-empty status patterns")
        patterns += [part.strip() for part in item.split(",") if part.strip()]
    if not patterns:
        raise ValueError("a list of non-empty status patterns")
    return tuple(patterns)


def parse_ids(raw: object) -> tuple[str, ...]:
    """A comma-separated list, empty items skipped (the SDK's HUAWEICLOUD_OIDC_POLICY_IDS), or
    a TOML list of strings."""
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ValueError("a comma-separated list of IDs")
    ids = tuple(item.strip() for item in items if item.strip())
    if not ids:
        raise ValueError("a comma-separated list of IDs")
    return ids


class choice:  # named as the function it stands in for: choice("auto", "on", "off")
    """A parser that takes one of ``options`` (any case); ``--help`` shows them."""

    __slots__ = ("options",)

    def __init__(self, *options: str) -> None:
        self.options = options

    def __call__(self, raw: object) -> str:
        if isinstance(raw, str) and raw.strip().lower() in self.options:
            return raw.strip().lower()
        raise ValueError("one of " + ", ".join(self.options))


# --- checks on the typed value: return a problem ("must be ...") or None -----------------------


def _more_than_zero(value: float) -> str | None:
    return None if value > 0 else f"must be more than 0, got {value:g}"


def _not_negative(value: float) -> str | None:
    return None if value >= 0 else f"must be 0 or more, got {value:g}"


def _more_than_zero_or_unset(value: float | None) -> str | None:
    return None if value is None else _more_than_zero(value)


def _at_least_a_second(value: float) -> str | None:
    # Below a second, progress events would flood the logs (1e-300 is a valid float).
    return None if value >= 1 else f"must be at least 1 second, got {value:g}"


def _region(value: str | None) -> str | None:
    # A region goes into a host name, whose labels are at most 63 characters.
    if value is None or (len(value) <= 63 and re.fullmatch(_REGION, value)):
        return None
    return f"must be a region name such as cn-north-4, got {shown(value)}"


def is_project_id(value: object) -> TypeGuard[str]:
    """1-64 characters of ``A-Z a-z 0-9 . _ -``, and not ``.`` or ``..``: safe in a URL path."""
    return (
        isinstance(value, str)
        and bool(re.fullmatch(_PROJECT_ID, value))
        and value not in {".", ".."}
    )


def _project_id(value: str | None) -> str | None:
    if value is None or is_project_id(value):
        return None
    return f"must be 1-64 characters of A-Z a-z 0-9 . _ -, got {shown(value)}"


def _userinfo(value: str) -> str | None:
    """A problem when the URL carries a user name or password (``https://user:pw@host``).

    aiohttp would send it as Basic auth to that host, and every message would quote it. The
    URL is not echoed: what sits before the ``@`` may be a password.
    """
    rest = value.split("://", 1)[-1]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" not in authority:
        return None
    host = authority.rpartition("@")[2]
    return (
        f"must not contain a user name or password (got ***@{shown(host, bare=True)}); "
        "remove the part before the @, and give credentials the documented way"
    )


def _http_url(example: str) -> Callable[[str | None], str | None]:
    def check(value: str | None) -> str | None:
        if value is None:
            return None
        problem = _userinfo(value)
        if problem:
            return problem
        if value.isprintable() and re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            return None
        return f"must be an http(s) URL such as {example}, got {shown(value)}"

    return check


_one_endpoint = _http_url("https://kms.cn-north-4.myhuaweicloud.com")


def _endpoint(value: str | None) -> str | None:
    """One endpoint, or a comma list of them tried in turn (as the SDK's region variable)."""
    if value is None:
        return None
    for item in value.split(","):
        problem = _one_endpoint(item.strip())
        if problem:
            return problem
    return None


def _request_url(value: str | None) -> str | None:
    """An http(s) URL that may carry a query (GitHub's ID token URL does)."""
    if value is None:
        return None
    problem = _userinfo(value)
    if problem:
        return problem
    base = value.split("?", 1)[0]
    if value.isprintable() and " " not in value and not _one_endpoint(base):
        return None
    return f"must be an http(s) URL, got {shown(value)}"


def _url_template(value: str | None) -> str | None:
    if value is None:
        return None
    problem = _userinfo(value)
    if problem:
        return problem
    prefix = value.split("{", 1)[0].rstrip("/") or "x"
    if "{task_id}" not in value or not value.isprintable() or _one_endpoint(prefix):
        return f"must be an http(s) URL containing {{task_id}}, got {shown(value)}"
    return None


def _json_pointer(value: str | None) -> str | None:
    if value is None or value.startswith("/"):
        return None
    return f"is not a JSON pointer: write it as /status or /status/phase, got {shown(value)}"


# A header name is an HTTP token (RFC 9110); a few names are the request's own business.
_HEADER_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}"
_NOT_AN_AUTH_HEADER = frozenset(
    {
        "host", "content-length", "content-type", "transfer-encoding", "connection", "upgrade",
        "te", "trailer", "keep-alive", "expect", "proxy-authorization", "proxy-connection",
    }
)  # fmt: skip


def _header_name(value: str) -> str | None:
    if not re.fullmatch(_HEADER_NAME, value):
        return (
            "must be an HTTP header name such as Authorization or X-Api-Key (letters, digits "
            f"and -), got {shown(value)}"
        )
    if value.lower() in _NOT_AN_AUTH_HEADER:
        return f"must be a header that carries credentials, not {value}; waiter sets that one"
    return None


class Spec:
    """How one setting is named, parsed, checked and defaulted in every place it can be given.

    ``default`` is the one default there is: ``Settings`` takes its fields' defaults from here,
    and ``--help`` shows them. ``unset`` says what happens when a setting without a default is
    left unset ("the region's, from the SDK's table"). ``group`` and ``metavar`` place and name
    the flag in ``--help``. A plain class rather than a dataclass: the dataclasses module costs
    --help ~10 ms.
    """

    __slots__ = (
        "check", "default", "env", "flag", "flag_sets", "group", "help", "key", "metavar",
        "name", "parse", "secret", "unset",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        key: str | None,
        parse: Callable[[object], object],
        help: str,
        *,
        default: object = None,
        unset: str | None = None,
        flag: str | None = None,
        group: str | None = None,
        metavar: str | None = None,
        env: tuple[str, ...] = (),
        check: Callable[[Any], str | None] | None = None,
        secret: bool = False,
        flag_sets: bool = True,  # for a true/false setting: what its flag sets (--no-progress)
    ) -> None:
        self.name = name
        self.key = key
        self.parse = parse
        self.help = help
        self.default = default
        self.unset = unset
        self.flag = flag
        self.group = group
        self.metavar = metavar
        self.env = env
        self.check = check
        self.secret = secret
        self.flag_sets = flag_sets

    def __repr__(self) -> str:
        return f"Spec({self.name!r}, {self.key!r})"

    @property
    def label(self) -> str:
        return self.key or self.name

    @property
    def is_duration(self) -> bool:
        return self.parse is parse_seconds

    def ways(self, *, flag: bool = True) -> list[str]:
        """The names that give this setting outside code, in order: its flag (unless
        ``flag=False``), its variables, its config key."""
        ways = [self.flag] if flag and self.flag else []
        return [*ways, *self.env, *([self.key] if self.key else [])]

    def how_to_set(self) -> str:
        ways = self.ways()
        if self.key:
            ways[-1] = f"{self.key} in the config file"
        return "set it with " + " or ".join(ways) if ways else "set it in code"

    def shown_default(self) -> str | None:
        """The default as ``--help`` and the README write it (``30m``, ``auto``), or what an
        unset setting means; None when there is nothing to say (a switch that is off)."""
        value = self.default
        if value is None:
            return self.unset
        if isinstance(value, bool):
            return ("on" if value else "off") if self.parse is parse_bool else str(value)
        if self.is_duration and isinstance(value, float):
            return format_duration(value)
        if isinstance(value, float):
            return f"{value:g}"
        if isinstance(value, tuple):
            return ", ".join(value)
        return str(value)


# --help's groups of flags, in order; "what to wait on" and "config" are the command line's own.
GROUPS = {
    "timing": "timing (a time is seconds or a duration: " + DURATION_EXAMPLES + ")",
    "auth": "auth and endpoint",
    "statuses": "statuses and task API",
    "output": "output and reports",
    "logging": "logging",
}

# Every setting with a config key has a variable of its own: WAITER_ + the key's name in capitals
# (poll.min_interval: WAITER_MIN_INTERVAL), or where that would read badly, with the section's
# name too (WAITER_OUTPUT for output.format, WAITER_LOG_LEVEL for log.level). It comes first,
# before other tools' variables, except for the settings the official SDK reads from its own
# variables (the profile file, IAM and STS, keyless sources): there the SDK's comes first, as
# the name of record that messages give. tests/config/test_settings_table.py holds the rule.
SPECS: tuple[Spec, ...] = (
    Spec("region", "kps.region", parse_text, "cloud region, e.g. cn-north-4; picks the endpoint",
          flag="--region", group="auth", metavar="REGION",
          env=("WAITER_REGION", "HW_REGION_NAME", "OS_REGION_NAME"), check=_region),
    Spec("endpoint", "kps.endpoint", parse_text,
          "the task API's endpoint (one URL; may contain {region})",
          unset="the region's, from the SDK's table",
          flag="--endpoint", group="auth", metavar="URL", env=("WAITER_ENDPOINT",),
          check=_endpoint),
    Spec("project_id", "kps.project_id", parse_text, "project ID the tasks belong to",
          unset="the profile file's, else looked up from IAM (AK/SK)",
          flag="--project-id", group="auth", metavar="ID",
          env=("WAITER_PROJECT_ID", "HUAWEICLOUD_SDK_PROJECT_ID", "HW_PROJECT_ID", "OS_PROJECT_ID"),
          check=_project_id),
    Spec("token_file", "auth.token_file", parse_path,
          "read the IAM token from this file (WAITER_AUTH_TOKEN may give the token itself)",
          flag="--token-file", group="auth", metavar="PATH", env=("WAITER_TOKEN_FILE",)),
    Spec("credentials_file", "auth.credentials_file", parse_path,
          "profile file with AK/SK ([basic] ak, sk)",
          unset="~/.huaweicloud/credentials if it exists",
          env=("HUAWEICLOUD_SDK_CREDENTIALS_FILE", "WAITER_CREDENTIALS_FILE")),
    Spec("source", "auth.source", choice("auto", "ecs-metadata"),
          "where credentials may come from: auto = token, AK/SK, profile file, keyless; "
          "ecs-metadata = those, then the ECS metadata service's temporary credentials",
          default="auto", env=("WAITER_AUTH_SOURCE",)),
    Spec("metadata_url", "auth.metadata_url", parse_text,
          "where auth.source = ecs-metadata fetches temporary credentials",
          default=DEFAULT_METADATA_URL, env=("WAITER_METADATA_URL",),
          check=_http_url(DEFAULT_METADATA_URL)),
    Spec("iam_endpoint", "auth.iam_endpoint", parse_text,
          "IAM endpoint that finds the project ID (AK/SK without one) and exchanges ID tokens",
          unset="the region's, from the SDK's table, else https://iam.myhuaweicloud.com",
          flag="--iam-endpoint", group="auth", metavar="URL",
          env=("HUAWEICLOUD_SDK_IAM_ENDPOINT", "WAITER_IAM_ENDPOINT"),
          check=_http_url("https://iam.cn-north-4.myhuaweicloud.com")),
    Spec("sts_endpoint", "auth.sts_endpoint", parse_text,
          "STS endpoint that exchanges an OIDC ID token for an agency's temporary keys",
          unset="the region's, from the SDK's table, else "
          "https://sts.cn-north-4.myhuaweicloud.com",
          env=("HUAWEICLOUD_SDK_STS_ENDPOINT", "WAITER_STS_ENDPOINT"),
          check=_http_url("https://sts.cn-north-4.myhuaweicloud.com")),
    Spec("idp_id", "auth.idp_id", parse_text,
          "ID-token federation: the IAM identity provider's ID (with id_token_file)",
          env=("HUAWEICLOUD_SDK_IDP_ID", "WAITER_IDP_ID")),
    Spec("id_token_file", "auth.id_token_file", parse_path,
          "ID-token federation: file holding the OpenID Connect ID token (re-read each time)",
          env=("HUAWEICLOUD_SDK_ID_TOKEN_FILE", "WAITER_ID_TOKEN_FILE")),
    Spec("oidc_provider_urn", "auth.oidc_provider_urn", parse_text,
          "OIDC agency: the identity provider's URN",
          env=("HUAWEICLOUD_OIDC_PROVIDER_URN", "WAITER_OIDC_PROVIDER_URN")),
    Spec("oidc_agency_urn", "auth.oidc_agency_urn", parse_text, "OIDC agency: the agency's URN",
          env=("HUAWEICLOUD_OIDC_AGENCY_URN", "WAITER_OIDC_AGENCY_URN")),
    Spec("oidc_id_token", None, parse_text, "OIDC agency: the ID token itself", secret=True,
          env=("HUAWEICLOUD_OIDC_ID_TOKEN",)),
    Spec("oidc_token_file", "auth.oidc_token_file", parse_path,
          "OIDC agency: file holding the ID token (re-read each time)",
          env=("HUAWEICLOUD_OIDC_TOKEN_FILE", "WAITER_OIDC_TOKEN_FILE")),
    Spec("oidc_session_name", "auth.oidc_session_name", parse_text,
          "OIDC agency: the session name", unset="oidc-sts-session",
          env=("HUAWEICLOUD_OIDC_SESSION_NAME", "WAITER_OIDC_SESSION_NAME")),
    Spec("oidc_duration_seconds", "auth.oidc_duration_seconds", parse_whole_seconds,
          "OIDC agency: how long the temporary keys last, whole seconds or a duration",
          unset="3600 (1h)",
          env=("HUAWEICLOUD_OIDC_DURATION_SECONDS", "WAITER_OIDC_DURATION_SECONDS"),
          check=_more_than_zero_or_unset),
    Spec("oidc_policy", "auth.oidc_policy", parse_text,
          "OIDC agency: a session policy (JSON) narrowing it",
          env=("HUAWEICLOUD_OIDC_POLICY", "WAITER_OIDC_POLICY")),
    Spec("oidc_policy_ids", "auth.oidc_policy_ids", parse_ids,
          "OIDC agency: IDs of policies narrowing the session, comma-separated",
          env=("HUAWEICLOUD_OIDC_POLICY_IDS", "WAITER_OIDC_POLICY_IDS")),
    Spec("oidc_audience", "auth.oidc_audience", parse_text,
          "OIDC agency on GitHub Actions: the audience of the ID token waiter asks GitHub for",
          default=DEFAULT_OIDC_AUDIENCE, env=("WAITER_OIDC_AUDIENCE",)),
    Spec("pod_credentials_uri", "auth.pod_credentials_uri", parse_text,
          "pod identity: where the pod's temporary keys are asked for",
          env=("HC_CONTAINER_CREDENTIALS_FULL_URI", "WAITER_POD_CREDENTIALS_URI"),
          check=_http_url("http://169.254.170.2/v1/credentials")),
    Spec("pod_token_file", "auth.pod_token_file", parse_path,
          "pod identity: file holding the token sent as Authorization (re-read each time)",
          env=("HC_CONTAINER_AUTHORIZATION_TOKEN_FILE", "WAITER_POD_TOKEN_FILE")),
    Spec("timeout", "poll.timeout", parse_seconds,
          "overall deadline: tasks still pending then end as timeout (exit 3)",
          default=1800.0, flag="--timeout", group="timing", env=("WAITER_TIMEOUT",),
          check=_more_than_zero),
    Spec("min_interval", "poll.min_interval", parse_seconds,
          "shortest wait between two polls of a task",
          default=2.0, flag="--min-interval", group="timing", env=("WAITER_MIN_INTERVAL",),
          check=_more_than_zero),
    Spec("max_interval", "poll.max_interval", parse_seconds,
          "longest wait between two polls of a task (the back-off's cap)",
          default=20.0, flag="--max-interval", group="timing", env=("WAITER_MAX_INTERVAL",),
          check=_more_than_zero),
    Spec("max_in_flight", "poll.max_in_flight", parse_count,
          "requests in flight at once, all tasks together",
          default=32, flag="--max-in-flight", group="timing", metavar="N",
          env=("WAITER_MAX_IN_FLIGHT",), check=_more_than_zero),
    Spec("rate", "poll.rate", parse_number, "requests per second at most, all tasks together",
          default=10.0, flag="--rate", group="timing", metavar="N", env=("WAITER_RATE",),
          check=_more_than_zero),
    Spec("fail_fast", "poll.fail_fast", parse_bool,
          "stop at the first task that ends in failure: the others end as cancelled",
          default=False, flag="--fail-fast", group="timing", env=("WAITER_FAIL_FAST",)),
    Spec("fail_fast_errors", "poll.fail_fast_errors", parse_bool,
          "stop at the first task that ends in error (auth, permission, not found, unknown "
          "status): the others end as cancelled; with --fail-fast, at the first of either",
          default=False, flag="--fail-fast-errors", group="timing",
          env=("WAITER_FAIL_FAST_ERRORS",)),
    Spec("not_found_grace", "poll.not_found_grace", parse_seconds,
          "how long 'task not found' is retried before the task ends in error",
          default=30.0, flag="--not-found-grace", group="timing",
          env=("WAITER_NOT_FOUND_GRACE",), check=_not_negative),
    Spec("request_timeout", "poll.request_timeout", parse_seconds,
          "time-out of one request (connect and read)",
          default=10.0, flag="--request-timeout", group="timing",
          env=("WAITER_REQUEST_TIMEOUT",), check=_more_than_zero),
    Spec("bulk", "poll.bulk", choice("auto", "on", "off"),
          "learn many tasks' states from KPS's task listings instead of one request a task; "
          "auto = on from 20 pending tasks",
          default="auto", flag="--bulk", group="timing", env=("WAITER_BULK",)),
    Spec("ca_bundle", "tls.ca_bundle", parse_path,
          "trust this CA bundle (PEM) instead of the system store", unset="the system store",
          flag="--ca-bundle", group="auth", metavar="PATH",
          env=("WAITER_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")),
    Spec("allow_insecure_http", "tls.allow_insecure_http", parse_bool,
          "allow a plain http:// endpoint that is not on this machine (credentials travel "
          "in clear)",
          default=False, flag="--allow-insecure-http", group="auth",
          env=("WAITER_ALLOW_INSECURE_HTTP",)),
    Spec("success", "status.success", parse_patterns,
          "statuses that mean success (shell-style patterns; repeat the flag or separate "
          "with commas)", unset="the API's: SUCCESS_* for kps",
          flag="--success", group="statuses", metavar="PATTERN", env=("WAITER_SUCCESS",)),
    Spec("failure", "status.failure", parse_patterns,
          "statuses that mean failure (as --success)", unset="the API's: FAILED_* for kps",
          flag="--failure", group="statuses", metavar="PATTERN", env=("WAITER_FAILURE",)),
    Spec("pending", "status.pending", parse_patterns,
          "statuses that mean keep waiting (as --success); any other status ends the task "
          "in error", unset="the API's: READY_*, RUNNING_* for kps",
          flag="--pending", group="statuses", metavar="PATTERN", env=("WAITER_PENDING",)),
    Spec("api", "api.kind", choice("kps", "ecs-job", "http"),
          "task API: kps, ecs-job (Huawei's job API) or http (any JSON API)",
          default="kps", flag="--api", group="statuses", env=("WAITER_API",)),
    Spec("url_template", "api.url_template", parse_text,
          "with --api http: the task's URL, with {task_id} and optionally {project_id}",
          flag="--url-template", group="statuses", metavar="TEMPLATE",
          env=("WAITER_URL_TEMPLATE",), check=_url_template),
    Spec("status_field", "api.status_field", parse_text,
          "with --api http: JSON pointer to the status in the answer, e.g. /status/phase",
          flag="--status-field", group="statuses", metavar="POINTER",
          env=("WAITER_STATUS_FIELD",), check=_json_pointer),
    Spec("api_huawei_auth", "api.huawei_auth", parse_bool,
          "with --api http: send the Huawei token or AK/SK signature to the URL template's "
          "host too (by default it gets none)",
          default=False, flag="--api-huawei-auth", group="statuses",
          env=("WAITER_API_HUAWEI_AUTH",)),
    Spec("api_auth_header", "api.auth_header", parse_text,
          "with --api http: the header that carries the API's own credentials "
          "(WAITER_API_AUTH or --api-auth-file)",
          default=DEFAULT_API_AUTH_HEADER, flag="--api-auth-header", group="statuses",
          metavar="NAME", env=("WAITER_API_AUTH_HEADER",), check=_header_name),
    Spec("api_auth_file", "api.auth_file", parse_path,
          "with --api http: read that header's value from this file, e.g. 'Bearer abc123' "
          "(WAITER_API_AUTH may give the value itself)",
          flag="--api-auth-file", group="statuses", metavar="PATH",
          env=("WAITER_API_AUTH_FILE",)),
    Spec("output", "output.format", choice("auto", "json", "text"),
          "result format on stdout; auto = json when stdout is not a terminal, else text",
          default="auto", flag="--output", group="output", env=("WAITER_OUTPUT",)),
    Spec("progress", "output.progress", parse_bool,
          "no live progress line (shown on stderr while it is a terminal)",
          default=True, flag="--no-progress", group="output", env=("WAITER_PROGRESS",),
          flag_sets=False),
    Spec("progress_every", "output.progress_every", parse_seconds,
          "time between progress events when stderr is not a terminal (at least 1s)",
          default=30.0, flag="--progress-every", group="output",
          env=("WAITER_PROGRESS_EVERY",), check=_at_least_a_second),
    Spec("junit_xml", "output.junit_xml", parse_path,
          "write a JUnit XML report (a test case a task) to this file",
          flag="--junit-xml", group="output", metavar="PATH", env=("WAITER_JUNIT_XML",)),
    Spec("summary_file", "output.summary_file", parse_path,
          "append a Markdown summary to this file (e.g. $GITHUB_STEP_SUMMARY)",
          flag="--summary-file", group="output", metavar="PATH", env=("WAITER_SUMMARY_FILE",)),
    Spec("log_format", "log.format", choice("auto", "json", "console"),
          "log format on stderr; auto = json when stderr is not a terminal, else console",
          default="auto", flag="--log-format", group="logging", env=("WAITER_LOG_FORMAT",)),
    Spec("log_level", "log.level", choice("debug", "info", "warning", "error"),
          "the least important log events shown on stderr",
          default="info", flag="--log-level", group="logging", env=("WAITER_LOG_LEVEL",)),
    Spec("token", None, parse_text, "IAM token", secret=True,
          env=("WAITER_AUTH_TOKEN", "HW_AUTH_TOKEN", "OS_AUTH_TOKEN")),
    Spec("access_key", None, parse_text, "access key (AK)", secret=True,
          env=("HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY")),
    Spec("secret_key", None, parse_text, "secret key (SK)", secret=True,
          env=("HUAWEICLOUD_SDK_SK", "HW_SECRET_KEY")),
    Spec("security_token", None, parse_text, "security token of temporary credentials",
          secret=True, env=("HUAWEICLOUD_SDK_SECURITY_TOKEN", "HW_SECURITY_TOKEN")),
    # GitHub Actions' own values for the job: secrets, never in a file or on the command line.
    Spec("github_token_url", None, parse_text,
          "GitHub Actions: where a job with id-token: write asks for ID tokens", secret=True,
          env=("ACTIONS_ID_TOKEN_REQUEST_URL",), check=_request_url),
    Spec("github_request_token", None, parse_text,
          "GitHub Actions: the token that asks for ID tokens", secret=True,
          env=("ACTIONS_ID_TOKEN_REQUEST_TOKEN",)),
    Spec("api_auth", None, parse_text,
          "with --api http: the value of the API's auth header, e.g. 'Bearer abc123'",
          secret=True, env=("WAITER_API_AUTH",)),
)  # fmt: skip

SPECS_BY_NAME = {spec.name: spec for spec in SPECS}


def access_key_families() -> list[tuple[str, str, str]]:
    """The environment's (AK, SK, security token) variables, one family a row, in order.

    A pair is taken from one family only: an AK from one with an SK from another would sign
    with a secret that does not belong to the key.
    """
    return list(
        zip(
            SPECS_BY_NAME["access_key"].env,
            SPECS_BY_NAME["secret_key"].env,
            SPECS_BY_NAME["security_token"].env,
            strict=True,
        )
    )
