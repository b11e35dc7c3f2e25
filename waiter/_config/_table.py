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
    "SPECS",
    "SPECS_BY_NAME",
    "Spec",
    "access_key_families",
    "is_project_id",
    "parse_bool",
    "parse_patterns",
    "shown",
]

# Where an ECS asks for the temporary credentials of its agency (the SDK's address).
DEFAULT_METADATA_URL = "http://169.254.169.254/openstack/latest/securitykey"

# The audience waiter asks GitHub Actions' ID tokens for (WAITER_OIDC_AUDIENCE): the client ID
# the IAM identity provider is configured with must be the same.
DEFAULT_OIDC_AUDIENCE = "sts.myhuaweicloud.com"

# The header --api http sends the API's own credentials in (WAITER_API_AUTH, api.auth_file).
DEFAULT_API_AUTH_HEADER = "Authorization"

# Region names are spliced into a host name, so only what a real region can contain.
_REGION = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Project IDs go into the URL path: the same safe alphabet as task IDs.
_PROJECT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


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
    raise ValueError("true or false")


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
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not items:
        raise ValueError('a list of status patterns such as ["SUCCESS_*"]')
    patterns = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValueError("a list of non-empty status patterns")
        patterns.append(item.strip())
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


def _more_than_zero_or_unset(value: float | None) -> str | None:
    return None if value is None else _more_than_zero(value)


def _at_least_a_second(value: float) -> str | None:
    # Below a second, progress events would flood the logs (1e-300 is a valid float).
    return None if value >= 1 else f"must be at least 1 (second), got {value:g}"


def _region(value: str | None) -> str | None:
    # A region goes into a host name, whose labels are at most 63 characters.
    if value is None or (len(value) <= 63 and _REGION.fullmatch(value)):
        return None
    return f"must be a region name such as cn-north-4, got {shown(value)}"


def is_project_id(value: object) -> TypeGuard[str]:
    """1-64 characters of ``A-Z a-z 0-9 . _ -``, and not ``.`` or ``..``: safe in a URL path."""
    return (
        isinstance(value, str) and bool(_PROJECT_ID.fullmatch(value)) and value not in {".", ".."}
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
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
_NOT_AN_AUTH_HEADER = frozenset(
    {
        "host", "content-length", "content-type", "transfer-encoding", "connection", "upgrade",
        "te", "trailer", "keep-alive", "expect", "proxy-authorization", "proxy-connection",
    }
)  # fmt: skip


def _header_name(value: str) -> str | None:
    if not _HEADER_NAME.fullmatch(value):
        return (
            "must be an HTTP header name such as Authorization or X-Api-Key (letters, digits "
            f"and -), got {shown(value)}"
        )
    if value.lower() in _NOT_AN_AUTH_HEADER:
        return f"must be a header that carries credentials, not {value}; waiter sets that one"
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
          "API endpoint (one URL); default: the region's, from the "
          "SDK's table",
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
          "IAM endpoint that finds the project ID (AK/SK without one); default: the "
          "region's, from the SDK's table, else https://iam.myhuaweicloud.com",
          flag="--iam-endpoint", env=("HUAWEICLOUD_SDK_IAM_ENDPOINT",),
          check=_http_url("https://iam.cn-north-4.myhuaweicloud.com")),
    Spec("sts_endpoint", "auth.sts_endpoint", parse_text,
          "STS endpoint that exchanges an OIDC ID token for an agency's temporary keys; "
          "default: the region's, from the SDK's table, else the cn-north-4 one",
          env=("HUAWEICLOUD_SDK_STS_ENDPOINT",),
          check=_http_url("https://sts.cn-north-4.myhuaweicloud.com")),
    Spec("idp_id", "auth.idp_id", parse_text,
          "ID-token federation: the IAM identity provider's ID (with id_token_file)",
          env=("HUAWEICLOUD_SDK_IDP_ID",)),
    Spec("id_token_file", "auth.id_token_file", parse_path,
          "ID-token federation: file holding the OpenID Connect ID token (re-read each time)",
          env=("HUAWEICLOUD_SDK_ID_TOKEN_FILE",)),
    Spec("oidc_provider_urn", "auth.oidc_provider_urn", parse_text,
          "OIDC agency: the identity provider's URN",
          env=("HUAWEICLOUD_OIDC_PROVIDER_URN",)),
    Spec("oidc_agency_urn", "auth.oidc_agency_urn", parse_text, "OIDC agency: the agency's URN",
          env=("HUAWEICLOUD_OIDC_AGENCY_URN",)),
    Spec("oidc_id_token", None, parse_text, "OIDC agency: the ID token itself", secret=True,
          env=("HUAWEICLOUD_OIDC_ID_TOKEN",)),
    Spec("oidc_token_file", "auth.oidc_token_file", parse_path,
          "OIDC agency: file holding the ID token (re-read each time)",
          env=("HUAWEICLOUD_OIDC_TOKEN_FILE",)),
    Spec("oidc_session_name", "auth.oidc_session_name", parse_text,
          "OIDC agency: the session name; default oidc-sts-session",
          env=("HUAWEICLOUD_OIDC_SESSION_NAME",)),
    Spec("oidc_duration_seconds", "auth.oidc_duration_seconds", parse_count,
          "OIDC agency: how long the temporary keys last, seconds; default 3600",
          env=("HUAWEICLOUD_OIDC_DURATION_SECONDS",), check=_more_than_zero_or_unset),
    Spec("oidc_policy", "auth.oidc_policy", parse_text,
          "OIDC agency: a session policy (JSON) narrowing it",
          env=("HUAWEICLOUD_OIDC_POLICY",)),
    Spec("oidc_policy_ids", "auth.oidc_policy_ids", parse_ids,
          "OIDC agency: IDs of policies narrowing the session, comma-separated",
          env=("HUAWEICLOUD_OIDC_POLICY_IDS",)),
    Spec("oidc_audience", "auth.oidc_audience", parse_text,
          "OIDC agency on GitHub Actions: the audience of the ID token waiter asks GitHub for",
          env=("WAITER_OIDC_AUDIENCE",)),
    Spec("pod_credentials_uri", "auth.pod_credentials_uri", parse_text,
          "pod identity: where the pod's temporary keys are asked for",
          env=("HC_CONTAINER_CREDENTIALS_FULL_URI",),
          check=_http_url("http://169.254.170.2/v1/credentials")),
    Spec("pod_token_file", "auth.pod_token_file", parse_path,
          "pod identity: file holding the token sent as Authorization (re-read each time)",
          env=("HC_CONTAINER_AUTHORIZATION_TOKEN_FILE",)),
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
          flag="--ca-bundle", env=("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")),
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
          flag="--status-field", check=_json_pointer),
    Spec("api_huawei_auth", "api.huawei_auth", parse_bool,
          "with --api http: send the Huawei token or AK/SK signature to the URL template's "
          "host too (by default it gets none)",
          flag="--api-huawei-auth", env=("WAITER_API_HUAWEI_AUTH",)),
    Spec("api_auth_header", "api.auth_header", parse_text,
          "with --api http: the header that carries the API's own credentials "
          "(WAITER_API_AUTH or --api-auth-file)",
          flag="--api-auth-header", env=("WAITER_API_AUTH_HEADER",), check=_header_name),
    Spec("api_auth_file", "api.auth_file", parse_path,
          "with --api http: file holding the value of that header, e.g. 'Bearer abc123' "
          "(the environment may give it as WAITER_API_AUTH)",
          flag="--api-auth-file", env=("WAITER_API_AUTH_FILE",)),
    Spec("output", "output.format", choice("auto", "json", "text"),
          "result format; auto = json when stdout is not a terminal", flag="--output"),
    Spec("progress", "output.progress", parse_bool,
          "live progress line on stderr when it is a terminal", flag="--no-progress",
          flag_sets=False),
    Spec("progress_every", "output.progress_every", parse_seconds,
          "seconds between progress events when stderr is not a terminal",
          flag="--progress-every", check=_at_least_a_second),
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
