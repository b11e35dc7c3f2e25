"""Temporary credentials from the ECS metadata service (``auth.source = "ecs-metadata"``).

An ECS with an agency (an IAM role for the machine) hands out short-lived keys at
``http://169.254.169.254/openstack/latest/securitykey``::

    {"credential": {"access": "...", "secret": "...", "securitytoken": "...",
                    "expires_at": "2024-05-06T07:08:09.000000Z"}}

They are fetched once when the Waiter starts and fetched again before they expire, for as
long as the run lasts. The parsing of such an answer (:func:`parse_temporary`) and the refresh
(:func:`keep_fresh`, given any fetcher) serve every source of temporary keys (``_exchange``).
Hardened machines ask for a session token first (as IMDSv2 does); that is done when the plain
request is refused, as the official SDK does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import aiohttp

from .._errors import ApiError, AuthError, BadAnswer, ConfigError
from .._event_log import EventLog
from .._http._client import send
from .._http._errors import error_from_answer, parse_json
from .._redact import remember_secrets
from ._headers import SigningAuth
from ._signing import AkSkCredentials, utc_now

__all__ = [
    "Temporary",
    "fetch_temporary_keys",
    "keep_fresh",
    "parse_temporary",
    "refresh_delay",
]

# The metadata service is on the machine's own link: it answers at once or not at all.
_TIMEOUT = aiohttp.ClientTimeout(total=3)
# Fetch new keys this long before the old ones expire (requests in flight stay valid).
REFRESH_BEFORE = timedelta(minutes=15)
# Never ask more often than this, even for keys about to expire or a service that fails.
MIN_REFRESH_WAIT = 5.0
# After a failed refresh, try again within this many seconds.
RETRY_WAIT = 60.0
_TOKEN_PATH = "/meta-data/latest/api/token"  # noqa: S105 - a path, not a secret
_TOKEN_TTL = "21600"  # noqa: S105 - seconds (the SDK's six hours), not a secret
# A session token is a few dozen characters; it is sent back as a header of every request.
_MAX_SESSION_TOKEN = 4096
_NO_AGENCY = "Please configure Cloud Service Agency first"


@dataclass(frozen=True)
class Temporary:
    """Temporary keys, and when they stop working."""

    keys: AkSkCredentials
    expires_at: datetime


async def fetch_temporary_keys(session: aiohttp.ClientSession, url: str) -> Temporary:
    """The metadata service's current keys, or the typed ApiError that fits."""
    status, body, headers = await _request(session, "GET", url, {})
    if status == 401 and _NO_AGENCY.encode() not in body:
        token = await _session_token(session, url)
        status, body, headers = await _request(session, "GET", url, {"X-Metadata-Token": token})
    if status == 401 and _NO_AGENCY.encode() in body:
        raise AuthError(
            "this ECS has no agency, so it has no temporary credentials: attach one (ECS "
            "console: the instance, Management Information, Agency), or use other credentials",
            http_status=401,
        )
    if status == 401:
        raise AuthError(
            "the metadata service refused the request, even with a session token",
            http_status=401,
        )
    if status != 200:
        raise error_from_answer(status, body, headers)
    return parse_temporary(body, "the metadata service")


async def _session_token(session: aiohttp.ClientSession, url: str) -> str:
    parts = urlsplit(url)
    token_url = f"{parts.scheme}://{parts.netloc}{_TOKEN_PATH}"
    status, body, headers = await _request(
        session, "PUT", token_url, {"X-Metadata-Token-Ttl-Seconds": _TOKEN_TTL}
    )
    if status != 200:
        raise error_from_answer(status, body, headers)
    token = body.decode("utf-8", "replace").strip()
    if not token or len(token) > _MAX_SESSION_TOKEN:
        # It goes into a header of every later request: a page of HTML is no token.
        raise BadAnswer(f"the metadata service's session token is {len(token)} characters long")
    remember_secrets(token)
    return token


async def _request(
    session: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str]
) -> tuple[int, bytes, Mapping[str, str]]:
    # Never through a proxy: the address is on this machine's link.
    return await send(
        session,
        method,
        url,
        headers=headers,
        timeout=_TIMEOUT,
        too_slow=f"no answer within {_TIMEOUT.total:g} s: is this an ECS? (the ECS metadata "
        "service answers only on one)",
    )


# The spellings of each field the official SDK accepts (``StsAccessor._process_credential``).
_FIELDS = {
    "access": ("access", "accessKeyId", "access_key_id"),
    "secret": ("secret", "secretAccessKey", "secret_access_key"),
    "securitytoken": ("securitytoken", "securityToken", "security_token"),
    "expires_at": ("expires_at", "expiration"),
}


def parse_temporary(body: bytes, who: str) -> Temporary:
    """Temporary keys from an answer ``{"credential": {...}}`` or ``{"credentials": {...}}``.

    Each field under any of the names the SDK accepts. ``who`` completes "... 's answer".
    """
    # The answer holds the secret key: no message here ever quotes it.
    # None as well for nesting too deep to parse, or bytes that are not UTF-8.
    document = parse_json(body)
    if isinstance(document, dict):
        document = document.get("credential") or document.get("credentials") or document
    if not isinstance(document, dict):
        raise BadAnswer(f"{who}'s answer is not a JSON object with a credential")
    found = {
        name: next((document[n] for n in spellings if document.get(n)), None)
        for name, spellings in _FIELDS.items()
    }
    missing = [name for name, value in found.items() if not isinstance(value, str) or not value]
    if missing:
        raise BadAnswer(f"{who}'s credential has no {', '.join(missing)}")
    access, secret, token, expires = (str(found[name]) for name in _FIELDS)
    remember_secrets(access, secret, token)
    try:
        keys = AkSkCredentials(access.strip(), secret.strip(), token.strip())
        expires_at = datetime.fromisoformat(expires.replace("Z", "+00:00"))
    except ValueError:
        raise BadAnswer(f"{who}'s credential is malformed") from None
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)  # the services speak UTC
    return Temporary(keys, expires_at)


def refresh_delay(expires_at: datetime, now: datetime) -> float:
    """Seconds to wait before fetching new keys: well before ``expires_at``, never in a loop."""
    left = (expires_at - now).total_seconds()
    if left > 2 * REFRESH_BEFORE.total_seconds():
        return left - REFRESH_BEFORE.total_seconds()
    return max(left / 2, MIN_REFRESH_WAIT)  # short-lived keys: renew half-way


async def keep_fresh(
    auth: SigningAuth,
    fetch: Callable[[], Awaitable[Temporary]],
    expires_at: datetime,
    *,
    source: str,
    logger: EventLog,
    wall_clock: Callable[[], datetime] = utc_now,
) -> None:
    """Replace ``auth``'s keys with ``fetch()``'s before they expire, until cancelled.

    ``source`` names where the keys come from in the log events. Sleeps in the loop's time
    while expiry is wall-clock time, so a machine that slept or a clock that stepped is caught
    at the next wake-up. A failed fetch keeps the old keys (they may well still work) and tries
    again soon; once they expire, the API's 401 ends the run.
    """
    wait = refresh_delay(expires_at, wall_clock())
    while True:
        await asyncio.sleep(wait)
        try:
            fresh = await fetch()
        except Exception as error:  # whatever fails, the refresher must live on
            wait = min(RETRY_WAIT, refresh_delay(expires_at, wall_clock()))
            known = isinstance(error, ApiError | ConfigError)
            reason = str(error) if known else type(error).__name__
            logger.warning(
                "credentials_refresh_failed", source=source, error=reason, retry_in_s=wait
            )
            continue
        auth.replace_keys(fresh.keys)
        expires_at = fresh.expires_at
        wait = refresh_delay(expires_at, wall_clock())
        logger.info(
            "credentials_refreshed",
            source=source,
            expires_at=expires_at.isoformat(),
            next_refresh_s=round(wait, 3),
        )
