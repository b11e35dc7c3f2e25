"""Huawei Cloud error answers -> typed :class:`ApiError`; and the bounds on a server's text.

An error body is read as the official SDK reads it (``DefaultExceptionHandler``): the first of
the pairs ``error_code``/``error_msg``, ``errorCode``/``errorMsg``, ``code``/``message`` both
present in an object, at the top level or nested at any depth (``{"error": {...}}``,
``{"itemNotFound": {...}}``), and ``encoded_authorization_message`` wherever it is met on the
way. An answer without a code has its HTTP status as the code, as in the SDK; without a message,
the start of its body. Unlike the SDK the walk is bounded (:data:`MAX_ERROR_DEPTH`,
:data:`MAX_ERROR_OBJECTS`) and never raises.

Whatever a server sends, what reaches results and logs is bounded here, in one place: a message
is cut at :data:`MAX_MESSAGE_CHARS`, a code, request ID, status or server ID at
:data:`MAX_NAME_CHARS` (:func:`clip`, :func:`server_text`, :func:`server_name`,
:func:`checked_status`).
"""

from __future__ import annotations

import email.utils
import http
import json
import math
import re
import reprlib
import time
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from .._config._settings import all_names
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
    "MAX_ENCODED_CHARS",
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
# The 403's encoded authorization message is a long opaque blob (a kilobyte or two); longer than
# this, it is cut like any other server text.
MAX_ENCODED_CHARS = 2048
# How far and how wide an error body is searched for its code and message: real ones nest a
# level or two; a body built to be walked for ever is read no further than this.
MAX_ERROR_DEPTH = 32
MAX_ERROR_OBJECTS = 1000

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


_DECODER = json.JSONDecoder()
_WHITE_SPACE = re.compile(r"[ \t\n\r]*")  # what json.loads skips around a document


def parse_json(body: bytes) -> object:
    """The JSON value in ``body``, or None when there is none to read.

    Nesting deeper than the parser can take raises RecursionError, bytes that are not UTF-8
    UnicodeDecodeError, a 5,000-digit number ValueError: all of them are an unreadable answer,
    like a syntax error, and never an exception that escapes to the engine.
    """
    try:
        if body[:1] == b"{" and body[1:2] != b"\x00":
            # json.loads(bytes) as it goes for an object (every answer), without the three
            # calls it spends getting there: not UTF-16 or -32, so UTF-8; no white space to
            # skip before it; after it, white space only ("Extra data" otherwise).
            text = body.decode("utf-8", "surrogatepass")
            document, end = _DECODER.raw_decode(text)
            trailing = _WHITE_SPACE.match(text, end)
            if trailing is None or trailing.end() != len(text):
                return None
            return document
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
        fields = _error_fields(body)
    except Exception:  # _error_fields is defensive already: this only seals it
        fields = _NO_FIELDS
    kind = _kind(http_status, fields.code, not_found_codes)
    # As the SDK does: an answer that names no code has its status as the code.
    code = fields.code or str(http_status)
    encoded = fields.encoded_authorization_message
    try:
        request_id = server_text(headers.get("X-Request-Id"), MAX_NAME_CHARS) or fields.request_id
        text = _explain(
            kind,
            http_status,
            fields.message or _snippet(body) or _reason(http_status),
            headers,
            credentials=credentials,
            signed=signed,
            now=now,
        )
        if encoded:
            text = f"{text}; encoded authorization message: {encoded}"
        retry_after = (
            parse_retry_after(headers.get("Retry-After")) if kind is TransientError else None
        )
    except Exception:  # whatever fails here must not change what the error is
        request_id, text, retry_after = fields.request_id, _plain(kind, http_status), None
    return kind(
        text,
        http_status=http_status,
        code=code,
        request_id=request_id,
        retry_after=retry_after,
        encoded_authorization_message=encoded,
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
            "never travel elsewhere: check the endpoint"
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
        return f"{_reason(http_status)} (the credentials were refused; nothing more is sent)"
    return _reason(http_status)


def _reason(http_status: int) -> str:
    """What the status means, for an answer that says nothing itself ("Service Unavailable").

    Not "HTTP 503": the error's text adds the status already.
    """
    try:
        return http.HTTPStatus(http_status).phrase
    except ValueError:
        return "no reason given"


def _refused(
    message: str,
    headers: Mapping[str, str],
    credentials: str | None,
    signed: bool,
    now: datetime | None,
) -> str:
    """Why the credentials were refused, and what to check."""
    if credentials == NOTHING_SENT:
        # --api http with no header of its own: there is no token to blame. Below the plan,
        # which knows who made the settings: both kinds of user read this.
        return (
            "the API wants credentials and none were sent: give its header's value with "
            f"{all_names('api_auth')} or {all_names('api_auth_file')}"
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


class ErrorFields(NamedTuple):
    """What an error body says, each bounded; None where it says nothing."""

    code: str | None
    message: str | None
    request_id: str | None
    encoded_authorization_message: str | None


_NO_FIELDS = ErrorFields(None, None, None, None)
# The SDK's pairs, in its order: the first one whose two keys are both in an object wins there.
_PAIRS = (("error_code", "error_msg"), ("errorCode", "errorMsg"), ("code", "message"))
_ENCODED = "encoded_authorization_message"


def _error_fields(body: bytes) -> ErrorFields:
    """The code, message, request ID and encoded authorization message of an error body."""
    document = parse_json(body)
    if not isinstance(document, dict):
        return _NO_FIELDS
    code, message, encoded = _find_pair(document)
    nested = document.get("error")
    request_id = document.get("request_id") or (
        nested.get("request_id") if isinstance(nested, dict) else None
    )
    return ErrorFields(
        # A code or message the SDK would find empty (None, "", 0) is no code or message.
        _field_text(code, MAX_NAME_CHARS) if code else None,
        _field_text(message, MAX_MESSAGE_CHARS) if message else None,
        _field_text(request_id, MAX_NAME_CHARS),
        _field_text(encoded, MAX_ENCODED_CHARS) if encoded else None,
    )


def _find_pair(document: dict[str, object]) -> tuple[object, object, object]:
    """The SDK's walk (``DefaultExceptionHandler._process_sdk_error``), bounded and iterative.

    Objects are visited depth first, in document order. In each one an encoded authorization
    message is taken, then the first pair present; an object with a pair is not looked into
    further, one without has its object values visited. Whatever is found later replaces what
    was found earlier, as in the SDK. Lists are not looked into (nor does the SDK).
    """
    code: object = None
    message: object = None
    encoded: object = None
    stack: list[tuple[dict[str, object], int]] = [(document, 0)]
    visited = 0
    while stack and visited < MAX_ERROR_OBJECTS:
        node, depth = stack.pop()
        visited += 1
        if _ENCODED in node:
            encoded = node[_ENCODED]
        pair = next(((node[c], node[m]) for c, m in _PAIRS if c in node and m in node), None)
        if pair is not None:
            code, message = pair
        elif depth < MAX_ERROR_DEPTH:
            # Reversed onto the stack, so the first value is the next one visited.
            children = [value for value in node.values() if isinstance(value, dict)]
            stack.extend((child, depth + 1) for child in reversed(children[:MAX_ERROR_OBJECTS]))
    return code, message, encoded


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
