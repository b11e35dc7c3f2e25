"""The run invariant against hostile surroundings: every task reported exactly once, the run
ends by the deadline (start-up included) or at once when stopped, and nothing escapes as a
traceback.

Library tests run on the virtual-time loop against servers on 127.0.0.1; command-line tests run
the real program in a subprocess, where the real standard streams and signals matter.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import structlog
from aiohttp import web
from helpers import (
    PROJECT,
    TOKEN,
    fake_kps,
    kps_on_a_thread,
    served_on_a_thread,
    serving,
    settings_for,
)
from virtual_time import run_virtual

from waiter import Outcome, Settings, Waiter, wait_for
from waiter.testing._fake import Reply
from waiter.testing._server import FakeKpsServer

RUNNING, DONE = "RUNNING_RESET", "SUCCESS_RESET"
AK, SK = "AKINVARIANT0000000001", "sk-invariant-secret-0001"


def assert_each_reported_once(results: list[Any], task_ids: list[str]) -> None:
    assert sorted(r.task_id for r in results) == sorted(task_ids)


# --- servers that misbehave -----------------------------------------------------------------


def never_answering_app(asked: threading.Event | None = None) -> web.Application:
    """Accepts every request and never answers (an IAM or metadata service that hangs)."""

    async def hang(request: web.Request) -> web.StreamResponse:
        if asked is not None:
            asked.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hang)
    return app


# --- log sinks that fail --------------------------------------------------------------------


class RaisingLogger:
    """A logger every call of which raises, as a broken sink or a buggy processor would."""

    calls = 0

    def bind(self) -> RaisingLogger:
        return self

    def _fail(self, event: str, **fields: object) -> None:
        RaisingLogger.calls += 1
        raise BrokenPipeError(32, "Broken pipe")

    debug = info = warning = error = _fail


@pytest.mark.parametrize("bulk", ["off", "on"])
def test_a_logger_that_always_raises_loses_no_task_and_ends_the_run(bulk: str):
    kps = fake_kps()
    ids = [f"t{n}" for n in range(25)]
    for n, task_id in enumerate(ids):
        kps.add_task(task_id, [(0, RUNNING), (n % 5 * 3, DONE if n % 4 else RUNNING)])

    async def scenario() -> list[Any]:
        async with kps.serve() as url:
            settings = settings_for(url, timeout=30, bulk=bulk)
            return await wait_for(ids, settings, logger=RaisingLogger())  # type: ignore[arg-type]

    RaisingLogger.calls = 0
    results = run_virtual(scenario())

    assert_each_reported_once(results, ids)
    assert {r.outcome for r in results} == {Outcome.SUCCESS, Outcome.TIMEOUT}
    assert RaisingLogger.calls > len(ids)  # every event was tried, and each one failed


def test_a_structlog_processor_that_raises_does_not_hang_the_library():
    def broken(logger: object, name: str, event: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("processor bug")

    structlog.configure(processors=[broken])
    kps = fake_kps()
    kps.add_task("t1", [(0, RUNNING), (3, DONE)])
    kps.add_task("t2", [(0, RUNNING)])

    async def scenario() -> list[Any]:
        async with kps.serve() as url:
            return await wait_for(["t1", "t2"], settings_for(url, timeout=20))

    results = run_virtual(scenario())

    assert [r.outcome for r in results] == [Outcome.SUCCESS, Outcome.TIMEOUT]


# --- workers that die or hang ---------------------------------------------------------------


class Fatal(BaseException):
    """Not an Exception: gets past every `except Exception`, as a bug's worst case would."""


def test_a_dead_worker_ends_its_tasks_as_errors_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch,
):
    async def dies(self: object, task_id: str) -> object:
        raise Fatal

    monkeypatch.setattr("waiter._apis._kps.KpsClient.fetch", dies)
    kps = fake_kps()

    async def scenario() -> list[Any]:
        async with kps.serve() as url:
            return await wait_for(["t1", "t2"], settings_for(url, max_in_flight=1))

    results = run_virtual(scenario())

    assert [r.outcome for r in results] == [Outcome.ERROR, Outcome.ERROR]
    assert all("internal error" in (r.error or "") for r in results)


def test_a_worker_stuck_past_cancellation_still_ends_the_run_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
):
    async def never_lets_go(self: object, task_id: str) -> object:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)  # deaf to the engine's own time-out: only closing gets in
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    monkeypatch.setattr("waiter._apis._kps.KpsClient.fetch", never_lets_go)
    kps = fake_kps()

    async def scenario() -> tuple[list[Any], float]:
        async with kps.serve() as url:
            loop = asyncio.get_running_loop()
            started = loop.time()
            results = await wait_for(["t1", "t2", "t3"], settings_for(url, timeout=10))
            return results, loop.time() - started

    results, took = run_virtual(scenario())

    assert [r.outcome for r in results] == [Outcome.TIMEOUT] * 3
    # Virtual seconds: each task ended by the deadline plus the last poll's grace, and the call
    # returned soon after (closing a session takes a moment), not when the fetch let go.
    assert max(r.elapsed_s for r in results) <= 10 + 1
    assert took < 60


# --- bulk listings that are not listings ----------------------------------------------------


@pytest.mark.parametrize(
    "listing",
    [
        Reply(200, body=b"<html><body>Welcome to the corporate proxy</body></html>"),
        Reply(200, body=b'{"tasks": "not a list"}'),
        Reply(200, body=b"[" * 100_000 + b"]" * 100_000),  # deeper than the JSON parser goes
    ],
    ids=["html", "no-listing-fields", "nested-too-deep"],
)
def test_a_listing_that_is_no_listing_falls_back_to_single_gets(listing: Reply):
    kps = fake_kps()
    ids = [f"t{n:02d}" for n in range(30)]
    for task_id in ids:
        kps.add_task(task_id, [(0, RUNNING), (5, DONE)])
    kps.listing_reply = listing

    async def scenario() -> list[Any]:
        async with kps.serve() as url:
            return await wait_for(ids, settings_for(url, timeout=120, bulk="on"))

    results = run_virtual(scenario())

    assert [r.outcome for r in results] == [Outcome.SUCCESS] * len(ids)
    rounds = [r for r in kps.listing_requests if r.task_id == "running"]
    assert len(rounds) == 3  # three unreadable listings, then single GETs only


# --- start-up: bounded by the deadline, ended by stop() --------------------------------------


def signing_settings(iam: str, kps_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "endpoint": kps_url,
        "region": "cn-north-4",
        "iam_endpoint": iam,
        "access_key": AK,
        "secret_key": SK,
        "timeout": 5.0,
    }
    values.update(overrides)
    return Settings(**values)


def test_start_up_that_never_ends_is_cut_at_the_deadline_and_every_task_times_out():
    async def scenario() -> tuple[list[Any], float]:
        async with serving(never_answering_app()) as iam:
            loop = asyncio.get_running_loop()
            started = loop.time()
            results = await wait_for(["t1", "t2"], signing_settings(iam, iam, timeout=5))
            return results, loop.time() - started

    results, took = run_virtual(scenario())

    assert [r.outcome for r in results] == [Outcome.TIMEOUT, Outcome.TIMEOUT]
    assert all("during start-up" in (r.error or "") for r in results)
    assert "project ID from IAM" in (results[0].error or "")
    assert took <= 5 + 1


def test_stop_during_start_up_cancels_every_wait_at_once():
    async def scenario() -> tuple[list[Any], float]:
        async with serving(never_answering_app()) as iam:
            loop = asyncio.get_running_loop()
            waiter = Waiter(signing_settings(iam, iam, timeout=600))
            loop.call_later(2, waiter.stop, "stopped by the test")
            started = loop.time()
            async with waiter:
                results = [r async for r in waiter.as_completed(["t1", "t2"])]
            return results, loop.time() - started

    results, took = run_virtual(scenario())

    assert [r.outcome for r in results] == [Outcome.CANCELLED, Outcome.CANCELLED]
    assert all(r.error == "stopped by the test" for r in results)
    assert took < 3


def test_stop_before_entering_ends_every_later_wait_without_a_request():
    kps = fake_kps()
    kps.add_task("t1", [(0, RUNNING)])

    async def scenario() -> list[Any]:
        async with kps.serve() as url:
            waiter = Waiter(settings_for(url))
            waiter.stop("not today")
            async with waiter:
                first = await waiter.wait("t1")
                second = [r async for r in waiter.as_completed(["t1", "t2"])]
            return [first, *second]

    results = run_virtual(scenario())

    assert [r.outcome for r in results] == [Outcome.CANCELLED] * 3
    assert kps.requests == []


# --- the command line in a hostile environment ----------------------------------------------


@pytest.fixture
def server() -> Iterator[FakeKpsServer]:
    with kps_on_a_thread(timelines_from_first_poll=True) as server:
        yield server


FAST = ["--min-interval", "0.05", "--max-interval", "0.2", "--rate", "1000", "--log-format", "json"]


def waiter_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "waiter", *args]


def cli_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "WAITER_AUTH_TOKEN": TOKEN, **extra}


def kps_args(server: FakeKpsServer, *args: str) -> list[str]:
    return ["--endpoint", server.url, "--project-id", PROJECT, *FAST, *args]


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text
        assert TOKEN not in text


def test_a_vanished_stderr_reader_does_not_hold_the_run(server: FakeKpsServer):
    server.add_task("t1", [(0, RUNNING), (0.2, DONE)])
    server.add_task("t2", [(0, RUNNING)])
    proc = subprocess.Popen(
        waiter_command(*kps_args(server, "--timeout", "2", "-v", "t1", "t2")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    assert proc.stderr is not None
    proc.stderr.readline()  # the run has begun
    proc.stderr.close()  # ... and the reader of its logs goes away
    out, _ = proc.communicate(timeout=60)  # a hang fails here instead of blocking forever

    assert proc.returncode == 3
    results = [json.loads(line) for line in out.splitlines()]
    assert {r["task_id"]: r["outcome"] for r in results} == {"t1": "success", "t2": "timeout"}


def test_a_reader_that_stops_after_one_line_ends_the_run_with_4_and_the_reports(
    server: FakeKpsServer, tmp_path: Path
):
    server.add_task("fast", [(0, DONE)])
    server.add_task("slow", [(0, RUNNING)])  # done only once nobody reads (below)
    server.add_task("never", [(0, RUNNING)])
    junit = tmp_path / "junit.xml"
    args = kps_args(server, "--timeout", "600", "--junit-xml", str(junit), "fast", "slow", "never")
    proc = subprocess.Popen(
        waiter_command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())
    proc.stdout.close()  # `| head -1`
    # Only now: a slow that ended before the close would be written unnoticed, and then nothing
    # would be left to write until never's deadline.
    server.add_task("slow", [(0, DONE)])
    _, err = proc.communicate(timeout=60)

    assert first["task_id"] == "fast"
    assert proc.returncode == 4
    no_traceback(err)
    assert "results_not_printed" in err
    cases = {c.get("name"): c for c in ElementTree.parse(junit).getroot().iter("testcase")}
    assert set(cases) == {"fast", "slow", "never"}


@pytest.mark.parametrize("how", ["full", "closed"])
def test_a_full_or_closed_stdout_ends_the_run_cleanly(server: FakeKpsServer, how: str):
    server.add_task("t1", [(0, DONE)])
    server.add_task("t2", [(0, RUNNING)])
    redirect = ">/dev/full" if how == "full" else ">&-"
    command = " ".join(waiter_command(*kps_args(server, "--timeout", "600", "t1", "t2")))
    ran = subprocess.run(
        ["bash", "-c", f"exec {command} {redirect}"],
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        timeout=60,
        check=False,
    )

    assert ran.returncode == 4
    no_traceback(ran.stderr)
    ended = [json.loads(line) for line in ran.stderr.splitlines() if '"task_ended"' in line]
    assert sorted(e["task_id"] for e in ended) == ["t1", "t2"]  # each reported once, in the logs


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_start_up_ends_the_run_at_once_with_every_task_cancelled(
    signum: int, code: int
):
    server = background_server()
    with server as url:
        env = {**os.environ, "HUAWEICLOUD_SDK_AK": AK, "HUAWEICLOUD_SDK_SK": SK}
        args = ["--endpoint", url, "--region", "cn-north-4", "--iam-endpoint", url, *FAST]
        proc = subprocess.Popen(
            waiter_command(*args, "--timeout", "600", "t1", "t2"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert server.asked.wait(60), "waiter never asked IAM for the project ID"
        finally:
            proc.send_signal(signum)  # while it waits for IAM's answer
        out, err = proc.communicate(timeout=30)

    assert proc.returncode == code
    no_traceback(out, err)
    results = [json.loads(line) for line in out.splitlines()]
    assert sorted(r["task_id"] for r in results) == ["t1", "t2"]
    assert {r["outcome"] for r in results} == {"cancelled"}


def test_a_deadline_during_start_up_ends_the_command_with_3(tmp_path: Path):
    with background_server() as url:
        env = {**os.environ, "HUAWEICLOUD_SDK_AK": AK, "HUAWEICLOUD_SDK_SK": SK}
        args = ["--endpoint", url, "--region", "cn-north-4", "--iam-endpoint", url, *FAST]
        ran = subprocess.run(
            waiter_command(*args, "--timeout", "1", "t1", "t2"),
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    assert ran.returncode == 3
    no_traceback(ran.stdout, ran.stderr)
    results = [json.loads(line) for line in ran.stdout.splitlines()]
    assert [r["outcome"] for r in results] == ["timeout", "timeout"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_task_ids_are_read_ends_the_run_cleanly(signum: int, tmp_path: Path):
    # A FIFO as the IDs file: its reader blocks until a writer comes, and then as long as the
    # writer says nothing, like `waiter -` on a pipe that never ends.
    fifo = tmp_path / "ids"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        waiter_command("--endpoint", "http://127.0.0.1:9", "--project-id", PROJECT, "t0",
                       "--ids-file", str(fifo)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )  # fmt: skip
    with fifo.open("w"):  # returns once waiter has opened it: it is reading now
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)

    assert proc.returncode == (130 if signum == signal.SIGINT else 143)
    no_traceback(out, err)
    [result] = [json.loads(line) for line in out.splitlines()]
    assert (result["task_id"], result["outcome"]) == ("t0", "cancelled")


class background_server:
    """A never-answering server on its own thread and loop, for subprocess tests.

    ``asked`` is set when the first request arrives.
    """

    def __enter__(self) -> str:
        self.asked = threading.Event()
        self._served = served_on_a_thread(never_answering_app(self.asked))
        return self._served.__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        self._served.__exit__(*exc_info)


# --- refused credentials: one refusal, not one a request in flight -----------------------------


@pytest.mark.parametrize("bulk", ["off", "on"])
@pytest.mark.parametrize("credentials", ["token", "access key"])
def test_refused_credentials_are_sent_once_however_many_requests_could_be_in_flight(
    credentials: str, bulk: str
):
    seen: list[str] = []

    async def refuse_slowly(request: web.Request) -> web.StreamResponse:
        # Slow, as a gateway far away is: without a guard, every request in flight would be
        # out (and refused) before the first refusal came back.
        seen.append(request.path)
        await asyncio.sleep(0.5)
        body = {"error_code": "APIGW.0301", "error_msg": "Incorrect IAM authentication information"}
        return web.json_response(body, status=401)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", refuse_slowly)
    if credentials == "token":
        wrong: dict[str, Any] = {"token": "not-the-token-0f3a"}
    else:
        wrong = {"token": None, "access_key": AK, "secret_key": "not-the-secret-key-91c"}
    ids = [f"t{n:02d}" for n in range(40)]

    async def scenario() -> list[Any]:
        async with serving(app) as url:
            settings = settings_for(url, max_in_flight=32, bulk=bulk, **wrong)
            return await wait_for(ids, settings)

    results = run_virtual(scenario())

    assert [r.outcome for r in results] == [Outcome.ERROR] * len(ids)
    assert len(seen) == 1


def test_once_the_credentials_worked_requests_go_out_side_by_side_again():
    kps = fake_kps()
    ids = [f"t{n:02d}" for n in range(10)]
    for task_id in ids:
        kps.add_task(task_id, [(0, RUNNING), (30, DONE)], replies={2: Reply(hang=True)})

    async def scenario() -> list[Any]:
        async with kps.serve() as url:
            settings = settings_for(url, max_in_flight=10, request_timeout=20, bulk="off")
            return await wait_for(ids, settings)

    results = run_virtual(scenario())

    assert [r.outcome for r in results] == [Outcome.SUCCESS] * len(ids)
    # Every task's second request hung for the whole request time-out; side by side, not in
    # a queue of one at a time, so they all started within one request time-out.
    second = [kps.requests_for(task_id)[1].at for task_id in ids]
    assert max(second) - min(second) < 20


def test_a_401_listing_with_an_impossible_signature_time_stops_every_task():
    kps = fake_kps()
    ids = [f"t{n:02d}" for n in range(30)]
    for task_id in ids:
        kps.add_task(task_id, [(0, RUNNING)])
    kps.listing_reply = Reply(
        401,
        "APIGW.0301",
        "calc aksk signature fail:signature expired, signature time:20219999T999999Z,"
        "server time:20211217T065804Z",
    )

    async def scenario() -> list[Any]:
        async with kps.serve() as url:
            return await wait_for(ids, settings_for(url, bulk="on"))

    results = run_virtual(scenario())

    assert [r.outcome for r in results] == [Outcome.ERROR] * len(ids)
    assert all("refused" in (r.error or "") for r in results)
    assert len(kps.listing_requests) == 1


def test_a_server_that_trickles_its_answer_is_cut_and_the_run_ends_by_the_deadline():
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for _ in range(3600):  # a byte a second: never a whole answer within any time-out
            await response.write(b" ")
            await asyncio.sleep(1)
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", trickle)

    async def scenario() -> list[Any]:
        async with serving(app) as url:
            settings = settings_for(url, timeout=60, request_timeout=5)
            return await wait_for(["t1", "t2"], settings)

    results = run_virtual(scenario())

    assert [r.outcome for r in results] == [Outcome.TIMEOUT, Outcome.TIMEOUT]
    assert all("no answer within 5 s" in (r.error or "") for r in results)
    assert all(r.elapsed_s <= 60 + 1 for r in results)


def test_a_summary_file_nobody_reads_does_not_hold_the_end_of_the_run(
    server: FakeKpsServer, tmp_path: Path
):
    server.add_task("t1", [(0, DONE)])
    fifo = tmp_path / "summary"
    os.mkfifo(fifo)  # a pipe with no reader: opening it to write would wait for one for good
    ran = subprocess.run(
        waiter_command(*kps_args(server, "--summary-file", str(fifo), "t1")),
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
        check=False,
    )

    assert ran.returncode == 0  # a report that cannot be written does not change the outcome
    no_traceback(ran.stdout, ran.stderr)
    assert [json.loads(line)["outcome"] for line in ran.stdout.splitlines()] == ["success"]
    assert "report_not_written" in ran.stderr
