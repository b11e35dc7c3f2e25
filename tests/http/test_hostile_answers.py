"""Hostile answers: decompression bombs, JSON nested deeper than the parser can take, 401s of
any shape, and server text of any length.

Every server is a small aiohttp app on 127.0.0.1, and time is the virtual loop's. What is
checked is what a user sees: each task's outcome and error, the requests sent, and how much
memory an answer cost (tracemalloc's peak) - a bomb refused after unpacking 1 GiB is no fix.
"""

from __future__ import annotations

import functools
import gzip
import json
import struct
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog
from aiohttp import web
from helpers import PROJECT, by_id, serving, settings_for
from hypothesis import example, given
from hypothesis import strategies as st
from virtual_time import run_virtual

from waiter import Outcome, Settings, TaskResult, wait_for
from waiter._errors import ApiError, AuthError, TransientError
from waiter._http._body import MAX_ANSWER_BYTES
from waiter._http._errors import error_from_answer, parse_retry_after

DONE, RUNNING = "SUCCESS_RESET", "RUNNING_RESET"
MIB, GIB = 1 << 20, 1 << 30
AK, SK = "HPUAEXAMPLEKEY0000001", "sk-secret-5f0e7d4c3b2a"
# A 1 GiB answer (or a 1 MB error message) leaves a result no longer than this.
SANE = 2000
# What reading any one answer may cost, at most: well under 1 GiB, a few times 1 MiB.
PEAK_LIMIT = 16 * MIB


# --- a server that answers whatever the test says ---------------------------------------------

Answer = Callable[[web.Request, int], Awaitable[web.StreamResponse]]


@dataclass
class Hostile:
    """Answers the n-th request (n from 1) with ``answer(request, n)``, and keeps each one."""

    answer: Answer
    requests: list[web.Request] = field(default_factory=list)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        return await self.answer(request, len(self.requests))

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        async with serving(app) as url:
            yield url


def wait_with(
    answer: Answer,
    task_ids: list[str] | None = None,
    settings: Callable[[str], Settings] | None = None,
    **overrides: Any,
) -> tuple[list[TaskResult], Hostile, int]:
    """Wait on ``task_ids`` at a Hostile server; the results, the server, and the peak memory."""
    server = Hostile(answer)

    async def scenario() -> list[TaskResult]:
        async with server.serve() as url:
            chosen = settings(url) if settings else settings_for(url, **overrides)
            return await wait_for(task_ids or ["t1"], chosen)

    tracemalloc.start()
    try:
        results = run_virtual(scenario())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return results, server, peak


def status_json(status: str = DONE, **more: object) -> bytes:
    return json.dumps({"task_id": "t1", "task_status": status, **more}).encode()


def always(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    async def answer(request: web.Request, n: int) -> web.StreamResponse:
        return web.Response(status=status, body=body, headers=headers or {})

    return answer


def first_then_done(first: Answer, times: int = 1) -> Answer:
    """``first`` for the first ``times`` requests, then a task that succeeded."""

    async def answer(request: web.Request, n: int) -> web.StreamResponse:
        if n <= times:
            return await first(request, n)
        return web.Response(body=status_json(), content_type="application/json")

    return answer


# --- decompression bombs ----------------------------------------------------------------------

_SEGMENT = 4 * MIB
_HEAD, _TAIL = b'{"task_status": "', b'"}'


@functools.cache
def _deflated_gib() -> tuple[bytes, bytes, bytes, bytes]:
    """Raw deflate of a 1 GiB task answer whose status is "xxx..." all the way, in ~1 MB.

    Compressing 1 GiB takes seconds; instead one 4 MiB segment is compressed once and
    repeated. A full flush after each segment makes it stand alone, so the copies are a
    valid stream. Returns the first, middle and last segments' compressed bytes and the
    plain middle segment (for checksums).
    """
    first = _HEAD + b"x" * (_SEGMENT - len(_HEAD))
    middle = b"x" * _SEGMENT
    last = b"x" * (_SEGMENT - len(_TAIL)) + _TAIL
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    packed_first = packer.compress(first) + packer.flush(zlib.Z_FULL_FLUSH)
    packed_middle = packer.compress(middle) + packer.flush(zlib.Z_FULL_FLUSH)
    packed_last = packer.compress(last) + packer.flush()
    return packed_first, packed_middle, packed_last, middle


_MIDDLES = GIB // _SEGMENT - 2


def _raw_bomb() -> bytes:
    packed_first, packed_middle, packed_last, _ = _deflated_gib()
    return packed_first + packed_middle * _MIDDLES + packed_last


def _checksum(update: Callable[[bytes, int], int], start: int) -> int:
    _, _, _, middle = _deflated_gib()
    value = update(_HEAD + b"x" * (_SEGMENT - len(_HEAD)), start)
    for _ in range(_MIDDLES):
        value = update(middle, value)
    return update(b"x" * (_SEGMENT - len(_TAIL)) + _TAIL, value)


@functools.cache
def bomb(wrapper: str) -> bytes:
    """1 GiB of answer in ~1 MB: "gzip", "zlib" (deflate as RFC 1950 says) or "raw" deflate."""
    raw = _raw_bomb()
    if wrapper == "gzip":
        header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
        trailer = struct.pack("<II", _checksum(zlib.crc32, 0), GIB % (1 << 32))
        packed = header + raw + trailer
    elif wrapper == "zlib":
        packed = b"\x78\xda" + raw + struct.pack(">I", _checksum(zlib.adler32, 1))
    else:
        packed = raw
    # Under the limit as sent: only its decoded size can give it away.
    assert len(packed) < MAX_ANSWER_BYTES
    return packed


def test_the_bomb_is_a_real_one():
    """The test's own bomb is a task answer that unpacks far past the limit (1 GiB in all)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data, unpacked = bomb("gzip"), b""
    while data and len(unpacked) < 64 * MIB:
        unpacked += inflater.decompress(data, 16 * MIB)
        data = inflater.unconsumed_tail
    assert unpacked.startswith(b'{"task_status": "xxx')
    assert len(unpacked) >= 64 * MIB
    assert not inflater.eof
    assert struct.unpack("<I", bomb("gzip")[-4:]) == (GIB % (1 << 32),)  # gzip's own size


def _assert_bomb_refused(results: list[TaskResult], server: Hostile, peak: int) -> None:
    [result] = results
    assert result.outcome is Outcome.ERROR
    assert "5 unreadable answers" in (result.error or "")
    assert "larger than 1 MiB once decompressed" in (result.error or "")
    assert len(result.error or "") < SANE
    assert len(server.requests) == 5
    assert peak < PEAK_LIMIT


def test_a_gzip_bomb_with_a_content_length_is_refused_holding_no_more_than_the_limit():
    body = bomb("gzip")
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}

    results, server, peak = wait_with(always(body, headers=headers))

    _assert_bomb_refused(results, server, peak)


@pytest.mark.parametrize("wrapper", ["zlib", "raw"])
def test_a_deflate_bomb_is_refused_zlib_wrapped_or_raw(wrapper: str):
    body = bomb(wrapper)
    headers = {"Content-Encoding": "deflate", "Content-Type": "application/json"}

    results, server, peak = wait_with(always(body, headers=headers))

    _assert_bomb_refused(results, server, peak)


def test_a_chunked_gzip_bomb_is_refused_holding_no_more_than_the_limit():
    body = bomb("gzip")

    async def chunked(request: web.Request, n: int) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Encoding": "gzip"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 64 * 1024):
            await response.write(body[start : start + 64 * 1024])
        await response.write_eof()
        return response

    results, server, peak = wait_with(chunked)

    _assert_bomb_refused(results, server, peak)


def _stacked(body: bytes) -> bytes:
    return gzip.compress(zlib.compress(body))


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),  # RFC 9110: the same as gzip
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b, wbits=-zlib.MAX_WBITS)),  # raw, as browsers take
        ("deflate, gzip", _stacked),  # applied in that order, so undone in reverse
        ("identity", lambda b: b),
    ],
    ids=["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "stacked", "identity"],
)
def test_a_small_compressed_answer_still_works_end_to_end(coding: str, encode: Any):
    body = encode(status_json(DONE, server_id="srv-1"))

    results, server, _ = wait_with(always(body, headers={"Content-Encoding": coding}))

    [result] = results
    assert result.outcome is Outcome.SUCCESS
    assert result.server_id == "srv-1"
    # Exactly what waiter decodes, whatever aiohttp would announce with Brotli installed.
    assert server.requests[0].headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize("coding", ["br", "zstd", "x-hostile"])
def test_an_unknown_or_unrequested_content_encoding_is_unreadable_and_named(coding: str):
    headers = {"Content-Encoding": coding}

    results, server, _ = wait_with(always(status_json(DONE), headers=headers), timeout=60)

    [result] = results
    assert result.outcome is Outcome.ERROR
    assert "5 unreadable answers" in (result.error or "")
    assert f"Content-Encoding {coding!r}" in (result.error or "")
    assert len(server.requests) == 5


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (gzip.compress(status_json(DONE))[:-12], "cut off"),
        (gzip.compress(status_json(DONE))[:-8] + b"\0" * 8, "corrupt"),  # wrong CRC
        (status_json(DONE), "corrupt"),  # not gzip at all
    ],
    ids=["truncated", "bad-crc", "not-gzip"],
)
def test_a_corrupt_gzip_answer_is_unreadable(body: bytes, says: str):
    headers = {"Content-Encoding": "gzip"}

    results, server, _ = wait_with(always(body, headers=headers), timeout=60)

    [result] = results
    assert result.outcome is Outcome.ERROR
    assert "5 unreadable answers" in (result.error or "")
    assert f"the gzip answer is {says}" in (result.error or "")
    assert len(server.requests) == 5


def test_an_error_answer_whose_body_is_a_bomb_keeps_its_status():
    """A 503 with a bomb for a body is a 503 (retried as such), not an unreadable answer."""
    headers = {"Content-Encoding": "gzip"}
    bombed = always(bomb("gzip"), status=503, headers=headers)

    results, server, peak = wait_with(first_then_done(bombed, times=5))

    [result] = results
    assert result.outcome is Outcome.SUCCESS  # five 503s in a row are no five unreadable answers
    assert len(server.requests) == 6
    assert peak < PEAK_LIMIT


# --- JSON nested deeper than the parser can take --------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_STATUS = b'{"task_status": ' + DEEP + b"}"


@pytest.mark.parametrize("body", [DEEP, DEEP_STATUS], ids=["array", "in-task_status"])
def test_a_nested_task_answer_is_unreadable_and_ends_after_five(body: bytes):
    async def answer(request: web.Request, n: int) -> web.StreamResponse:
        if request.path.endswith("/deep"):
            return web.Response(body=body, content_type="application/json")
        return web.Response(body=status_json(DONE), content_type="application/json")

    results, _, _ = wait_with(answer, ["deep", "fine"])

    found = by_id(results)  # the run ended, with a result for each task
    assert found["deep"].outcome is Outcome.ERROR
    assert "5 unreadable answers" in (found["deep"].error or "")
    assert "RecursionError" not in (found["deep"].error or "")
    assert found["deep"].polls == 5
    assert found["fine"].outcome is Outcome.SUCCESS


def test_a_nested_error_body_is_still_an_error_of_its_status():
    nested = b'{"error_code": "SYS.0503", "error_msg": ' + DEEP + b"}"

    with structlog.testing.capture_logs() as events:
        results, server, _ = wait_with(first_then_done(always(nested, status=503), times=2))

    [result] = results
    assert result.outcome is Outcome.SUCCESS
    assert len(server.requests) == 3
    # Retried as the 503 it is, not as an unreadable answer; with no code read, the status is
    # the code, as the SDK has it.
    retries = [e for e in events if e["event"] == "retry_scheduled"]
    assert [(e["http_status"], e["error_code"]) for e in retries] == [(503, "503")] * 2


def test_a_nested_401_body_stops_every_task_at_once():
    nested = b'{"error_code": "APIGW.0301", "error_msg": ' + DEEP + b"}"
    ids = ["a", "b", "c"]

    results, server, _ = wait_with(always(nested, status=401), ids, max_in_flight=1)

    assert len(server.requests) == 1
    for result in results:
        assert result.outcome is Outcome.ERROR
        assert "the credentials were refused" in (result.error or "")
        assert "RecursionError" not in (result.error or "")


def test_parse_json_copes_with_anything():
    from waiter._http._errors import parse_json

    assert parse_json(DEEP) is None
    assert parse_json(b"\xff\xfe\xfa") is None  # not UTF-8
    assert parse_json(b"1" * 5000) is None  # more digits than int() takes
    assert parse_json(b'{"a": 1}') == {"a": 1}


# --- a 401, however its message is shaped ---------------------------------------------------------

IMPOSSIBLE = (
    "Incorrect IAM authentication information: calc aksk signature fail:signature expired, "
    "signature time:20219999T999999Z,server time:20211217T065804Z"
)


def test_a_401_with_an_impossible_signature_time_stops_every_task_after_one_request():
    body = json.dumps({"error_code": "APIGW.0301", "error_msg": IMPOSSIBLE}).encode()
    ids = [f"t{n}" for n in range(5)]

    def signed(url: str) -> Settings:
        return Settings(
            access_key=AK,
            secret_key=SK,
            project_id=PROJECT,
            endpoint=url,
            max_in_flight=1,
            min_interval=1.0,
            max_interval=8.0,
            timeout=120.0,
        )

    results, server, _ = wait_with(always(body, status=401), ids, settings=signed)

    # One refused signature, not one per task: more would lock the key.
    assert len(server.requests) == 1
    assert server.requests[0].headers["Authorization"].startswith("SDK-HMAC-SHA256 ")
    assert [r.task_id for r in results] == ids
    for result in results:
        assert result.outcome is Outcome.ERROR
        assert "were refused" in (result.error or "")
        assert "internal error" not in (result.error or "")
    assert "APIGW.0301" in (results[0].error or "")


def test_an_impossible_signature_time_leaves_the_date_header_to_tell_the_skew():
    now = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    body = json.dumps({"error_code": "APIGW.0301", "error_msg": IMPOSSIBLE}).encode()

    error = error_from_answer(
        401, body, {"Date": "Mon, 06 May 2024 11:00:00 GMT"}, signed=True, now=now
    )

    assert isinstance(error, AuthError)
    assert "about 60 minutes ahead of the server's" in str(error)


_HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)


@given(
    http_status=st.integers(300, 599),
    message=st.one_of(
        st.text(max_size=200),
        st.builds(
            "signature expired, signature time:{}T{}Z,server time:{}T{}Z".format,
            st.from_regex(r"\A\d{8}\Z"),
            st.from_regex(r"\A\d{6}\Z"),
            st.from_regex(r"\A\d{8}\Z"),
            st.from_regex(r"\A\d{6}\Z"),
        ),
    ),
    date=_HEADER_TEXT,
    retry_after=_HEADER_TEXT,
    signed=st.booleans(),
)
@example(http_status=401, message=IMPOSSIBLE, date="", retry_after="", signed=True)
@example(
    http_status=401,
    message="signature expired, signature time:00000000T000000Z,server time:99991231T235959Z",
    date="",
    retry_after="",
    signed=True,
)
@example(
    http_status=401,
    message="signature expired",
    date="Fri, 31 Dec 9999 23:59:59 -2359",
    retry_after="nan",
    signed=True,
)
def test_error_from_answer_never_raises_and_its_class_follows_the_status(
    http_status: int, message: str, date: str, retry_after: str, signed: bool
):
    body = json.dumps({"error_code": "APIGW.0301", "error_msg": message}).encode()
    headers = {"Date": date, "Retry-After": retry_after, "Location": date}

    error = error_from_answer(http_status, body, headers, signed=signed)

    assert isinstance(error, ApiError)
    if http_status == 401:
        assert type(error) is AuthError
    if http_status == 429 or http_status >= 500:
        assert type(error) is TransientError


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999"])
def test_a_retry_after_that_is_no_number_of_seconds_is_ignored(value: str):
    assert parse_retry_after(value) is None


# --- server text of any length ------------------------------------------------------------------


def _kps_settings(url: str) -> Settings:
    return settings_for(url, timeout=60)


def _ecs_settings(url: str) -> Settings:
    return settings_for(url, api="ecs-job", timeout=60)


def _http_settings(url: str) -> Settings:
    return Settings(
        api="http",
        url_template=url + "/ops/{task_id}",
        status_field="/phase",
        success=("Done",),
        failure=("Broken",),
        pending=("Working",),
        token="t",
        min_interval=1.0,
        max_interval=4.0,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("settings", "field"),
    [(_kps_settings, "task_status"), (_ecs_settings, "status"), (_http_settings, "phase")],
    ids=["kps", "ecs-job", "http"],
)
def test_a_status_too_long_to_be_one_is_an_unreadable_answer(settings: Any, field: str):
    body = json.dumps({field: "RUNNING_" + "x" * 200_000}).encode()

    results, server, _ = wait_with(always(body), settings=settings)

    [result] = results
    assert result.outcome is Outcome.ERROR
    assert "5 unreadable answers" in (result.error or "")
    assert "200008 characters long" in (result.error or "")
    assert len(result.error or "") < SANE
    assert result.status is None
    assert len(server.requests) == 5


def test_a_huge_error_message_code_and_request_id_are_cut_in_the_result():
    body = json.dumps({"error_code": "KPS." + "9" * 10_000, "error_msg": "m" * 1_000_000}).encode()
    headers = {"X-Request-Id": "r" * 4000}

    results, _, _ = wait_with(always(body, status=403, headers=headers))

    [result] = results
    assert result.outcome is Outcome.ERROR
    error = result.error or ""
    assert len(error) < SANE
    assert "m" * 512 + "… (999488 more characters)" in error
    assert len(result.error_code or "") < 200
    assert (result.error_code or "").startswith("KPS.999")
    assert len(result.request_id or "") < 200


def test_a_failed_listing_entry_of_huge_fields_is_cut_and_its_server_id_dropped():
    ids = [f"t{n:02d}" for n in range(25)]  # enough for bulk status
    failed = {
        "task_id": "t00",
        "operate_type": "FAILED_" + "x" * 10_000,
        "server_id": "s" * 10_000,
        "task_error_code": "KPS." + "2" * 10_000,
        "task_error_msg": "why " * 100_000,
    }

    async def answer(request: web.Request, n: int) -> web.StreamResponse:
        if request.path.endswith("/failed-tasks"):
            return web.json_response({"total": 1, "tasks": [failed]})
        if request.path.endswith("/running-tasks"):
            return web.json_response({"total": 0, "tasks": []})
        return web.Response(body=status_json(DONE), content_type="application/json")

    results, _, _ = wait_with(answer, ids, bulk="on")

    found = by_id(results)
    assert found["t00"].outcome is Outcome.FAILURE
    assert len(found["t00"].error or "") < SANE
    assert "more characters" in (found["t00"].error or "")
    assert found["t00"].status == "FAILED"  # the listing says so; the field was no status
    assert found["t00"].server_id is None
    assert len(found["t00"].error_code or "") < 200
    assert {found[i].outcome for i in ids[1:]} == {Outcome.SUCCESS}


def test_an_ecs_job_of_huge_fields_is_cut_and_its_server_id_dropped():
    job = {
        "status": "FAIL",
        "entities": {"server_id": "s" * 10_000},
        "error_code": "Ecs." + "0" * 10_000,
        "fail_reason": "because " * 100_000,
    }

    results, _, _ = wait_with(always(json.dumps(job).encode()), settings=_ecs_settings)

    [result] = results
    assert result.outcome is Outcome.FAILURE
    assert len(result.error or "") < SANE
    assert "more characters" in (result.error or "")
    assert result.server_id is None
