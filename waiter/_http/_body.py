"""An answer's body, read bounded and decoded by waiter itself (gzip and deflate only).

aiohttp would inflate answers whole before a size limit could see them: 1 MB of gzip unpacks
to 1 GiB. So sessions ask for ``auto_decompress=False``, and this module reads at most
:data:`MAX_ANSWER_BYTES` off the wire and holds at most as many once decoded.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable

import aiohttp

from .._errors import BadAnswer
from ._errors import MAX_NAME_CHARS, clip, server_text

__all__ = ["ACCEPT_ENCODING", "MAX_ANSWER_BYTES", "read_answer", "read_bounded"]

# A task status is a few hundred bytes; anything near this size is not an answer we want.
# It bounds the answer as read off the wire and as decompressed, both.
MAX_ANSWER_BYTES = 1024 * 1024
# What waiter asks for, and decodes itself (read_bounded). Set on every request rather than
# left to aiohttp, whose default grows with what is installed (br with Brotli, zstd).
ACCEPT_ENCODING = "gzip, deflate"
_GZIP = 16 + zlib.MAX_WBITS  # zlib's wbits for a gzip wrapper
_WBITS = {"gzip": _GZIP, "x-gzip": _GZIP, "deflate": zlib.MAX_WBITS}


def read_answer(response: aiohttp.ClientResponse) -> Awaitable[bytes]:
    """:func:`read_bounded`, except that an error answer's unreadable body gives way to a note;
    to be awaited.

    An error's status alone says what the error is: a 401 whose body is a bomb is still a 401
    (which stops every task), never an unreadable answer to try again with the same keys.
    """
    length = response.content_length
    if (
        length is not None
        and length <= MAX_ANSWER_BYTES
        and "Content-Encoding" not in response.headers
    ):
        # The usual answer, every poll's, which nothing can make unreadable: aiohttp's own
        # read of the length it announced, with no coroutine of ours around it, and no copy.
        return response.read()
    return _read_answer(response)


async def _read_answer(response: aiohttp.ClientResponse) -> bytes:
    try:
        return await read_bounded(response)
    except BadAnswer as unreadable:
        if response.status != 200:
            return f"(the body was not read: {unreadable.message})".encode()
        raise BadAnswer(
            unreadable.message,
            http_status=response.status,
            request_id=server_text(response.headers.get("X-Request-Id"), MAX_NAME_CHARS),
        ) from None


def read_bounded(response: aiohttp.ClientResponse) -> Awaitable[bytes]:
    """The body of an answer requested with ``auto_decompress=False``, decoded; to be awaited.

    At most :data:`MAX_ANSWER_BYTES` are read, announced or chunked, and at most as many are
    ever held once decoded: a body larger either way, in a Content-Encoding not asked for, or
    corrupt, is a BadAnswer.
    """
    length = response.content_length
    if length is not None and length > MAX_ANSWER_BYTES:
        raise BadAnswer(f"answer of {length} bytes refused (limit 1 MiB)")
    if length is not None and "Content-Encoding" not in response.headers:
        return response.read()  # announced and not encoded: read as it is, no copy made
    return _read_and_decode(response, length)


async def _read_and_decode(response: aiohttp.ClientResponse, length: int | None) -> bytes:
    raw = await (response.read() if length is not None else _read_chunks(response))
    coding = response.headers.get("Content-Encoding")
    if coding is None or not raw:
        return raw
    return _decoded(raw, coding)


async def _read_chunks(response: aiohttp.ClientResponse) -> bytes:
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise BadAnswer("answer larger than 1 MiB refused")
        chunks.append(chunk)
    return b"".join(chunks)


def _decoded(body: bytes, content_encoding: str) -> bytes:
    # Codings are listed in the order they were applied, so they come off in reverse.
    for coding in reversed([name.strip() for name in content_encoding.lower().split(",")]):
        if coding in ("", "identity"):
            continue
        wbits = _WBITS.get(coding)
        if wbits is None:
            raise BadAnswer(
                f"answer in Content-Encoding {clip(coding, MAX_NAME_CHARS)!r} refused: "
                f"only {ACCEPT_ENCODING} are asked for"
            )
        if coding == "deflate" and not _zlib_wrapped(body):
            # Raw deflate (RFC 1951) sent as "deflate", which browsers accept too.
            wbits = -zlib.MAX_WBITS
        body = _inflate(body, wbits, coding)
    return body


def _zlib_wrapped(data: bytes) -> bool:
    """Whether ``data`` opens with a zlib header (RFC 1950): method 8, and its check bits."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _inflate(data: bytes, wbits: int, coding: str) -> bytes:
    inflater = zlib.decompressobj(wbits)
    try:
        # Stops one byte past the limit: a bomb never unpacks further than that.
        body = inflater.decompress(data, MAX_ANSWER_BYTES + 1)
    except zlib.error as error:
        raise BadAnswer(f"the {coding} answer is corrupt ({error})") from None
    if len(body) > MAX_ANSWER_BYTES:
        raise BadAnswer("answer larger than 1 MiB once decompressed refused")
    if not inflater.eof:
        raise BadAnswer(f"the {coding} answer is cut off")
    return body
