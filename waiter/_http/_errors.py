"""Huawei Cloud error answers -> typed :class:`ApiError`; and the bounds on a server's text.

Huawei services answer errors in three shapes: flat ``{"error_code", "error_msg"}``, nested
``{"error": {"code", "message"}}``, and the API gateway's flat shape with ``request_id``.

Whatever a server sends, what reaches results and logs is bounded here, in one place: a message
is cut at :data:`MAX_MESSAGE_CHARS`, a code, request ID, status or server ID at
:data:`MAX_NAME_CHARS` (:func:`clip`, :func:`server_text`, :func:`server_name`,
:func:`checked_status`).
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import reprlib
import time
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta

from .._errors import (
    ApiError,
    AuthError,
    BadAnswer,
    EndpointError,
    NotFound,
    PermissionDenied,
    RequestRejected,
    TransientError,
)

__all__ = [
    "MAX_MESSAGE_CHARS",
    "MAX_NAME_CHARS",
    "NOTHING_SENT",
    "checked_status",
    "clip",
    "error_from_answer",
    "parse_json",
    "parse_retry_after",
    "preview",
    "server_name",
    "server_text",
]

# A real error message is a sentence or two; a real code, request ID, status or server ID is a
# word. Longer text from a server is broken or hostile, and must not fill results and logs.
MAX_MESSAGE_CHARS = 512
MAX_NAME_CHARS = 128

# Where credentials "came from" when none were sent (Auth.source of NoAuth): a 401 then says so.
NOTHING_SENT = "nothing: no credentials were sent"
# The gateway's "API not found": the URL names no API, so the endpoint or region is wrong.
_NO_SUCH_API = "APIGW.0101"
# The gateway refuses a signature dated more than this far from its own clock.
MAX_CLOCK_SKEW = timedelta(minutes=15)
# How the gateway says so: "... signature expired, signature time:20211217T064303Z,server
# time:20211217T065804Z".
_EXPIRED = re.compile(r"signature (?:has )?expired", re.IGNORECASE)
_TIMES = re.compile(r"signature time:\s*(\d{8}T\d{6}Z).*server time:\s*(\d{8}T\d{6}Z)", re.I)


# --- bounds on a server's text -------------------------------------------------------------


def clip(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text``, cut to ``limit`` characters with a marker saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def server_text(value: object, limit: int = MAX_MESSAGE_CHARS) -> str | None:
    """A string field of an answer, clipped; None when the field is not a string."""
    return clip(value, limit) if isinstance(value, str) else None


def server_name(value: object) -> str | None:
    """An identifier field (a server ID): None when it is no string or too long to be one.

    Dropped rather than cut: a cut ID would name another server, or none.
    """
    return value if isinstance(value, str) and len(value) <= MAX_NAME_CHARS else None


def checked_status(status: str, field: str) -> str:
    """``status``, unless it is too long to be one: then the answer is unreadable."""
    if len(status) > MAX_NAME_CHARS:
        raise BadAnswer(
            f"the answer's {field} is {len(status)} characters long, which no status is: "
            f"{clip(status, 40)!r}"
        )
    return status


_PREVIEW = reprlib.Repr()
# A few levels and items, each string cut: a bounded look at any document, however deep or
# large (str() of a 1 MiB document costs megabytes; of one nested deep enough, RecursionError).
_PREVIEW.maxlevel, _PREVIEW.maxdict, _PREVIEW.maxlist, _PREVIEW.maxstring = 3, 8, 8, 60


def preview(document: object, limit: int = 200) -> str:
    """A short, bounded rendering of a parsed JSON value, for messages."""
    return clip(_PREVIEW.repr(document), limit)


def parse_json(body: bytes) -> object:
    """The JSON value in ``body``, or None when there is none to read.

    Nesting deeper than the parser can take raises RecursionError, bytes that are not UTF-8
    UnicodeDecodeError, a 5,000-digit number ValueError: all of them are an unreadable answer,
    like a syntax error, and never an exception that escapes to the engine.
    """
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


# --- error answers -------------------------------------------------------------------------


def error_from_answer(
    http_status: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    not_found_codes: Collection[str] = (),
    credentials: str | None = None,
    signed: bool = False,
    now: datetime | None = None,
) -> ApiError:
    """The typed error for a non-200 answer; never raises, whatever the answer holds.

    ``not_found_codes`` are the API's own error codes for "no such task" (KPS: ``KPS.0001``).
    ``credentials`` says where the credentials came from and ``signed`` whether they sign
    requests, so a 401 can name them, and blame the clock when it is at fault (``now``: this
    machine's time, the current time by default).

    The error's class comes from the status and code alone, decided before the message: a 401
    is an AuthError, which stops every task, however strange its message. Were building the
    message to fail, each task would end on its own and send its refused signature again.
    """
    try:
        code, message, body_request_id = _error_fields(body)
    except Exception:  # _error_fields is defensive already: this only seals it
        code = message = body_request_id = None
    kind = _kind(http_status, code, not_found_codes)
    try:
        request_id = server_text(headers.get("X-Request-Id"), MAX_NAME_CHARS) or body_request_id
        text = _explain(
            kind,
            http_status,
            message or _snippet(body) or f"HTTP {http_status}",
            headers,
            credentials=credentials,
            signed=signed,
            now=now,
        )
        retry_after = (
            parse_retry_after(headers.get("Retry-After")) if kind is TransientError else None
        )
    except Exception:  # whatever fails here must not change what the error is
        request_id, text, retry_after = body_request_id, _plain(kind, http_status), None
    return kind(
        text, http_status=http_status, code=code, request_id=request_id, retry_after=retry_after
    )


def _kind(http_status: int, code: str | None, not_found_codes: Collection[str]) -> type[ApiError]:
    if 300 <= http_status < 400:
        return EndpointError
    if http_status == 401:
        return AuthError
    if http_status == 403:
        return PermissionDenied
    if http_status == 404 and code == _NO_SUCH_API:
        return EndpointError
    if http_status == 404 or code in not_found_codes:
        return NotFound
    if http_status == 429 or http_status >= 500:
        return TransientError
    return RequestRejected


def _explain(
    kind: type[ApiError],
    http_status: int,
    message: str,
    headers: Mapping[str, str],
    *,
    credentials: str | None,
    signed: bool,
    now: datetime | None,
) -> str:
    """The error's message: the server's, and what it means for the user."""
    if kind is EndpointError and 300 <= http_status < 400:
        where = clip(headers.get("Location", "nowhere"))
        return (
            f"the API redirected to {where}; waiter does not follow redirects so credentials "
            "never travel elsewhere: check --endpoint"
        )
    if kind is AuthError:
        return f"{message} ({_refused(message, headers, credentials, signed, now)})"
    if kind is PermissionDenied:
        return f"{message} (the credentials lack a permission, such as kps:domainKeypairs:gettask)"
    if kind is EndpointError:
        return f"{message} (no such API here: the endpoint or region is probably wrong)"
    return message


def _plain(kind: type[ApiError], http_status: int) -> str:
    """A message that cannot fail, for when explaining the answer did."""
    if kind is AuthError:
        return f"HTTP {http_status} (the credentials were refused; nothing more is sent)"
    return f"HTTP {http_status}"


def _refused(
    message: str,
    headers: Mapping[str, str],
    credentials: str | None,
    signed: bool,
    now: datetime | None,
) -> str:
    """Why the credentials were refused, and what to check."""
    if credentials == NOTHING_SENT:
        # --api http with no header of its own: there is no token to blame.
        return (
            "the API wants credentials and none were sent: give its header's value with "
            "WAITER_API_AUTH or --api-auth-file (api.auth_file)"
        )
    if not signed:
        token = f"the token from {credentials}" if credentials else "the token"
        return f"the credentials were refused: {token} is wrong or expired"
    who = f"the credentials from {credentials}" if credentials else "the credentials"
    skew = _clock_skew(message, headers, now or datetime.now(UTC))
    if skew is not None:
        return (
            f"{who} were refused because the request's time is more than "
            f"{MAX_CLOCK_SKEW.total_seconds() / 60:g} minutes off the "
            f"server's{skew}: check this machine's clock (is NTP running?)"
        )
    return (
        f"{who} were refused: check the access key and its secret key, and that the key is "
        "enabled; nothing more is sent, as repeated bad signatures lock the key for a while"
    )


def _clock_skew(message: str, headers: Mapping[str, str], now: datetime) -> str | None:
    """How far off this machine's clock is, when the answer shows it is ("" if unknown).

    The gateway's message says so ("signature expired") with both times; else the answer's
    Date header, more than 15 minutes from ``now``, gives it away. Times that are no times
    (``20219999T999999Z``) say nothing: the Date header may still tell.
    """
    times = _TIMES.search(message)
    if times:
        try:
            signed_at, server = (
                datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
                for text in times.groups()
            )
        except ValueError:
            pass
        else:
            return _how_far(signed_at - server)
    try:
        server_date = email.utils.parsedate_to_datetime(headers.get("Date", ""))
        offset = now - server_date if server_date.tzinfo is not None else None
    except (TypeError, ValueError, OverflowError, IndexError):
        offset = None
    if offset is not None and abs(offset) > MAX_CLOCK_SKEW:
        return _how_far(offset)
    return "" if _EXPIRED.search(message) else None


def _how_far(offset: timedelta) -> str:
    minutes = round(abs(offset).total_seconds() / 60)
    direction = "ahead of" if offset > timedelta(0) else "behind"
    return f" (this machine's clock is about {minutes} minutes {direction} the server's)"


def _error_fields(body: bytes) -> tuple[str | None, str | None, str | None]:
    """The code, message and request ID of an error body, each bounded; None where absent."""
    document = parse_json(body)
    if not isinstance(document, dict):
        return None, None, None
    nested = document.get("error")
    source = nested if isinstance(nested, dict) else document
    code = source.get("error_code") or source.get("code")
    message = source.get("error_msg") or source.get("message")
    request_id = document.get("request_id") or source.get("request_id")
    return (
        _field_text(code, MAX_NAME_CHARS),
        _field_text(message, MAX_MESSAGE_CHARS),
        _field_text(request_id, MAX_NAME_CHARS),
    )


def _field_text(value: object, limit: int) -> str | None:
    if value is None:
        return None
    # A number or a list where text belongs is still shown, in a bounded form.
    return clip(value if isinstance(value, str) else preview(value, limit), limit)


def _snippet(body: bytes, limit: int = 200) -> str:
    return body[:limit].decode("utf-8", "replace").strip()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from ``Retry-After``, given as seconds or as an HTTP date; None if neither."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # "inf" and "nan" parse as floats, but ask for no wait that can be kept.
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(when.timestamp() - time.time(), 0.0)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
