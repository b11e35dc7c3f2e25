"""The session, and one bounded GET of a JSON object, authenticated by an :class:`Auth`."""

from __future__ import annotations

import asyncio
import re
import ssl
import urllib.request
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Protocol, TypeVar
from urllib.parse import quote, urlsplit

import aiohttp

from .._config._settings import all_names
from .._errors import BadAnswer, TransientError, Unreachable
from .._version import __version__
from ._body import ACCEPT_ENCODING, read_answer
from ._errors import MAX_NAME_CHARS, error_from_answer, parse_json, server_text

__all__ = [
    "Auth",
    "get_json",
    "make_session",
    "path_segment",
    "proxy_for",
    "retry_transient",
    "send",
]

T = TypeVar("T")

_USER_AGENT = f"task-waiter/{__version__}"

# The characters quote() never encodes: text made of them alone is its own encoding.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")

# In urllib.request since Python 2 (urllib.request.proxy_bypass calls it), not in its stub.
_bypassed: Callable[[str, dict[str, str]], bool] = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]


class Auth(Protocol):
    """Credentials as a request sees them: headers, and what a refusal should say of them."""

    @property
    def source(self) -> str | None:
        """Where the credentials came from, for "the credentials from ... were refused" (None:
        unknown); NOTHING_SENT when no credentials are sent at all."""
        ...

    @property
    def signs(self) -> bool:
        """Whether requests are signed: a signature carries the time, so a clock can be at
        fault when it is refused."""
        ...

    def headers(self, method: str, url: str) -> dict[str, str]:
        """Headers that authenticate this request; computed anew for each request."""
        ...


def make_session(
    tls: ssl.SSLContext, *, connections: int, request_timeout: float
) -> aiohttp.ClientSession:
    """One session for a run: ``connections`` at most, each request bounded by ``request_timeout``.

    The pool is as large as the in-flight bound, so a request never queues for a connection
    inside its own time-out (ClientTimeout.total would count that wait).
    """
    connector = aiohttp.TCPConnector(limit=connections, ssl=tls)
    return aiohttp.ClientSession(
        connector=connector,
        # trust_env would also read ~/.netrc and send its passwords along.
        trust_env=False,
        timeout=aiohttp.ClientTimeout(total=request_timeout),
        # aiohttp would inflate answers whole before the size limit could see them: 1 MB of
        # gzip unpacks to 1 GiB. read_bounded decodes them within the limit instead.
        auto_decompress=False,
        headers={
            "User-Agent": _USER_AGENT,
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
        },
    )


def path_segment(text: str) -> str:
    """``text`` percent-encoded as one segment of a URL's path, as ``quote(text, safe="")``
    encodes it; a task ID as waiter accepts them needs no encoding, which one match tells
    for less than quote() takes to find out, on every poll."""
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe="")


def proxy_for(url: str) -> str | None:
    """The proxy for ``url`` from the environment (``HTTPS_PROXY``, ``NO_PROXY``, ...), or None.

    Read as the standard library reads it (``urllib.request.getproxies_environment`` and
    ``proxy_bypass_environment``): lower-case names win over upper-case ones, an empty
    lower-case one unsets the upper-case one, ``HTTP_PROXY`` is ignored under CGI
    (``REQUEST_METHOD`` set), and ``NO_PROXY`` takes host names, domain suffixes (with or
    without a leading dot), ``host:port`` and ``*``. Done here rather than with aiohttp's
    ``trust_env``, which would also read ``~/.netrc`` and send its passwords along.
    """
    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme)
    if not proxy:
        return None
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    where = [host] if port is None else [host, f"{host}:{port}"]
    if any(_bypassed(name, proxies) for name in where):
        return None
    return proxy


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    data: bytes | None = None,
    proxy: str | None = None,
    timeout: aiohttp.ClientTimeout | None = None,  # noqa: ASYNC109 - aiohttp's, per request
    too_slow: str | None = None,
) -> tuple[int, bytes, Mapping[str, str]]:
    """One request, never redirected (credentials would follow), its answer read bounded and
    decoded by waiter; the status, body and headers (case-insensitive, as they came).

    TransientError when no answer comes (``too_slow`` says why, else the session's time-out),
    Unreachable when the host cannot be connected to at all.
    """
    # Per request unless the session asks already (make_session's do): read_bounded decodes
    # what it reads, so an answer must never arrive inflated, whoever made the session.
    if session.headers.get("Accept-Encoding") != ACCEPT_ENCODING:
        headers = {**headers, "Accept-Encoding": ACCEPT_ENCODING}
    timeout = timeout or session.timeout
    try:
        async with session.request(
            method,
            url,
            headers=headers,
            data=data,
            allow_redirects=False,
            proxy=proxy,
            auto_decompress=False,
            timeout=timeout,
        ) as response:
            return response.status, await read_answer(response), response.headers
    except TimeoutError:
        limit = timeout.total
        raise TransientError(
            too_slow or f"no answer within {limit:g} s, the limit {all_names('request_timeout')}"
        ) from None
    except aiohttp.ClientConnectorError as error:
        raise Unreachable(f"{type(error).__name__}: {error}") from None
    except aiohttp.ClientError as error:
        raise TransientError(f"{type(error).__name__}: {error}") from None


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
    status, body, answer_headers = await send(
        session, "GET", url, headers=auth.headers("GET", url), proxy=proxy
    )

    if status != 200:
        raise error_from_answer(
            status,
            body,
            answer_headers,
            not_found_codes=not_found_codes,
            credentials=auth.source,
            signed=auth.signs,
        )
    document = parse_json(body)
    if not isinstance(document, dict):
        raise BadAnswer(
            f"the answer is not a JSON object: {body[:200].decode('utf-8', 'replace')!r}",
            http_status=status,
            request_id=server_text(answer_headers.get("X-Request-Id"), MAX_NAME_CHARS),
        )
    return document


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
