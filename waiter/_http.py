"""HTTP plumbing shared by every task API: the session, and one bounded GET of a JSON object.

Only this module and the API clients import aiohttp, so ``--help`` and usage errors stay fast.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

import aiohttp

from ._api_errors import error_from_answer
from ._auth import Auth, refusal_context
from ._errors import BadAnswer, TransientError
from ._settings import Settings
from ._version import __version__

__all__ = [
    "MAX_ANSWER_BYTES",
    "get_json",
    "make_session",
    "proxy_for",
    "read_bounded",
    "retry_transient",
]

T = TypeVar("T")

# A task status is a few hundred bytes; anything near this size is not an answer we want.
MAX_ANSWER_BYTES = 1024 * 1024
_USER_AGENT = f"task-waiter/{__version__}"


def make_session(settings: Settings, tls: ssl.SSLContext) -> aiohttp.ClientSession:
    # The connector's pool is as large as the in-flight bound, so a request never queues
    # for a connection inside its own time-out (ClientTimeout.total would count that wait).
    connector = aiohttp.TCPConnector(limit=settings.max_in_flight, ssl=tls)
    return aiohttp.ClientSession(
        connector=connector,
        # trust_env would also read ~/.netrc and send its passwords along.
        trust_env=False,
        timeout=aiohttp.ClientTimeout(total=settings.request_timeout),
        headers={"User-Agent": _USER_AGENT, "Accept": "application/json"},
    )


def proxy_for(url: str, env: Mapping[str, str] | None = None) -> str | None:
    """The proxy for ``url`` from ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``, or None.

    Done here rather than with aiohttp's ``trust_env``, which would also read ``~/.netrc``.
    """
    parts = urlsplit(url)
    proxies = _proxies(os.environ if env is None else env)
    proxy = proxies.get(parts.scheme)
    if proxy is None or _bypassed(parts.hostname or "", proxies.get("no", "")):
        return None
    return proxy


def _proxies(env: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    # Lower case wins, as curl and urllib do; empty values mean unset.
    for name in sorted(env, key=lambda n: n.islower()):
        value = env[name]
        if value and name.lower().endswith("_proxy"):
            found[name.lower().removesuffix("_proxy")] = value
    return found


def _bypassed(host: str, no_proxy: str) -> bool:
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if entry == "*":
            return True
        entry = entry.lstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


async def get_json(
    session: aiohttp.ClientSession,
    url: str,
    auth: Auth,
    *,
    proxy: str | None = None,
    not_found_codes: Collection[str] = (),
) -> dict[str, object]:
    """GET ``url`` and return its JSON object, or raise the typed ApiError that fits.

    The request is authenticated (signed, for AK/SK) anew on every call, retries included.
    """
    headers = auth.headers("GET", url)
    try:
        async with session.get(
            url, headers=headers, allow_redirects=False, proxy=proxy
        ) as response:
            body = await read_bounded(response)
            status, answer_headers = response.status, response.headers
    except TimeoutError:
        raise TransientError(
            f"no answer within {session.timeout.total:g} s (poll.request_timeout)"
        ) from None
    except aiohttp.ClientError as error:
        raise TransientError(f"{type(error).__name__}: {error}") from None

    if status != 200:
        credentials, signed = refusal_context(auth)
        raise error_from_answer(
            status,
            body,
            answer_headers,
            not_found_codes=not_found_codes,
            credentials=credentials,
            signed=signed,
        )
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise BadAnswer(
            f"the answer is not a JSON object: {body[:200].decode('utf-8', 'replace')!r}",
            http_status=status,
            request_id=answer_headers.get("X-Request-Id"),
        )
    return document


async def read_bounded(response: aiohttp.ClientResponse) -> bytes:
    length = response.content_length
    if length is not None:
        if length > MAX_ANSWER_BYTES:
            raise BadAnswer(f"answer of {length} bytes refused (limit 1 MiB)")
        # The usual case, and the cheap one: the size is announced and small.
        return await response.read()
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise BadAnswer("answer larger than 1 MiB refused")
        chunks.append(chunk)
    return b"".join(chunks)


async def retry_transient(call: Callable[[], Awaitable[T]], *, attempts: int = 3) -> T:
    """Await ``call()``, trying again after 1 s, 2 s, ... when it fails with a TransientError.

    For the few requests made once when a Waiter starts (temporary credentials, the project
    ID): a blip should not stop the run, and they have no task schedule to follow. Real time
    (the loop's), not the Waiter's clock: an instant test clock would make no pause at all.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except TransientError:
            if attempt == attempts:
                raise
            await asyncio.sleep(attempt)
    raise AssertionError("unreachable")  # pragma: no cover
