"""Huawei Cloud error answers -> typed :class:`ApiError`.

Huawei services answer errors in three shapes: flat ``{"error_code", "error_msg"}``, nested
``{"error": {"code", "message"}}``, and the API gateway's flat shape with ``request_id``.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta

from ._errors import (
    ApiError,
    AuthError,
    EndpointError,
    NotFound,
    PermissionDenied,
    RequestRejected,
    TransientError,
)

__all__ = ["error_from_answer", "parse_retry_after"]

# The gateway's "API not found": the URL names no API, so the endpoint or region is wrong.
_NO_SUCH_API = "APIGW.0101"
# The gateway refuses a signature dated more than this far from its own clock.
MAX_CLOCK_SKEW = timedelta(minutes=15)
# How the gateway says so: "... signature expired, signature time:20211217T064303Z,server
# time:20211217T065804Z".
_EXPIRED = re.compile(r"signature (?:has )?expired", re.IGNORECASE)
_TIMES = re.compile(r"signature time:\s*(\d{8}T\d{6}Z).*server time:\s*(\d{8}T\d{6}Z)", re.I)


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
    """The typed error for a non-200 answer.

    ``not_found_codes`` are the API's own error codes for "no such task" (KPS: ``KPS.0001``).
    ``credentials`` says where the credentials came from and ``signed`` whether they sign
    requests, so a 401 can name them, and blame the clock when it is at fault (``now``: this
    machine's time, the current time by default).
    """
    code, message, body_request_id = _error_fields(body)
    request_id = headers.get("X-Request-Id") or body_request_id
    message = message or _snippet(body) or f"HTTP {http_status}"

    def error(kind: type[ApiError], text: str, retry_after: float | None = None) -> ApiError:
        return kind(
            text, http_status=http_status, code=code, request_id=request_id,
            retry_after=retry_after,
        )  # fmt: skip

    if 300 <= http_status < 400:
        where = headers.get("Location", "nowhere")
        return error(
            EndpointError,
            f"the API redirected to {where}; waiter does not follow redirects so credentials "
            "never travel elsewhere: check --endpoint",
        )
    if http_status == 401:
        return error(
            AuthError, f"{message} ({_refused(message, headers, credentials, signed, now)})"
        )
    if http_status == 403:
        return error(
            PermissionDenied,
            f"{message} (the credentials lack a permission, such as kps:domainKeypairs:gettask)",
        )
    if http_status == 404 and code == _NO_SUCH_API:
        return error(
            EndpointError,
            f"{message} (no such API here: the endpoint or region is probably wrong)",
        )
    if http_status == 404 or code in not_found_codes:
        return error(NotFound, message)
    if http_status == 429 or http_status >= 500:
        return error(TransientError, message, parse_retry_after(headers.get("Retry-After")))
    return error(RequestRejected, message)


def _refused(
    message: str,
    headers: Mapping[str, str],
    credentials: str | None,
    signed: bool,
    now: datetime | None,
) -> str:
    """Why the credentials were refused, and what to check."""
    if not signed:
        token = f"the token from {credentials}" if credentials else "the token"
        return f"the credentials were refused: {token} is wrong or expired"
    who = f"the credentials from {credentials}" if credentials else "the credentials"
    skew = _clock_skew(message, headers, now or datetime.now(UTC))
    if skew is not None:
        return (
            f"{who} were refused because the request's time is more than 15 minutes off the "
            f"server's{skew}: check this machine's clock (is NTP running?)"
        )
    return (
        f"{who} were refused: check the access key and its secret key, and that the key is "
        "enabled; nothing more is sent, as repeated bad signatures lock the key for a while"
    )


def _clock_skew(message: str, headers: Mapping[str, str], now: datetime) -> str | None:
    """How far off this machine's clock is, when the answer shows it is ("" if unknown).

    The gateway's message says so ("signature expired") with both times; else the answer's
    Date header, more than 15 minutes from ``now``, gives it away.
    """
    times = _TIMES.search(message)
    if times:
        signed_at, server = (
            datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) for text in times.groups()
        )
        return _how_far(signed_at - server)
    try:
        server_date = email.utils.parsedate_to_datetime(headers.get("Date", ""))
    except (TypeError, ValueError):
        server_date = None
    if server_date is not None and server_date.tzinfo is not None:
        offset = now - server_date
        if abs(offset) > MAX_CLOCK_SKEW:
            return _how_far(offset)
    return "" if _EXPIRED.search(message) else None


def _how_far(offset: timedelta) -> str:
    minutes = round(abs(offset).total_seconds() / 60)
    direction = "ahead of" if offset > timedelta(0) else "behind"
    return f" (this machine's clock is about {minutes} minutes {direction} the server's)"


def _error_fields(body: bytes) -> tuple[str | None, str | None, str | None]:
    try:
        document = json.loads(body)
    except ValueError:
        return None, None, None
    if not isinstance(document, dict):
        return None, None, None
    nested = document.get("error")
    source = nested if isinstance(nested, dict) else document
    code = source.get("error_code") or source.get("code")
    message = source.get("error_msg") or source.get("message")
    request_id = document.get("request_id") or source.get("request_id")
    return (
        str(code) if code is not None else None,
        str(message) if message is not None else None,
        str(request_id) if request_id is not None else None,
    )


def _snippet(body: bytes, limit: int = 200) -> str:
    return body[:limit].decode("utf-8", "replace").strip()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from ``Retry-After``, given as seconds or as an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)
