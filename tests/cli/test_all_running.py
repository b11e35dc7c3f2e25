"""``--all``: the command waits on every task KPS's running-tasks listing shows at start, as a user
meets it: ``python -m waiter`` in a subprocess against the simulated KPS on 127.0.0.1.

Tasks stay RUNNING until the test sees the ``tasks_listed`` event and then lets them finish,
so what the listing shows never depends on how fast the subprocess started.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

import pytest
from aiohttp import web
from helpers import AK, PROJECT, SK, TOKEN, closed_port, served_on_a_thread

from waiter.testing._fake import FakeKps, Reply
from waiter.testing._server import FakeKpsServer, serve_in_thread

RUNNING, DONE, FAILED = "RUNNING_RESET", "SUCCESS_RESET", "FAILED_RESET"
FAST = ["--min-interval", "0.05", "--max-interval", "0.2", "--rate", "1000", "--log-format", "json"]


class Served:
    """The simulated KPS on its own thread, with the handle for scripting its listings."""

    def __init__(self, kps: FakeKps, server: FakeKpsServer) -> None:
        self.kps = kps
        self.server = server

    def running(self, *task_ids: str) -> None:
        for task_id in task_ids:
            self.server.add_task(task_id, [(0, RUNNING)])

    def finish(self, *task_ids: str) -> None:
        for task_id in task_ids:
            self.server.add_task(task_id, [(0, DONE)])


@pytest.fixture
def kps() -> Iterator[Served]:
    fake = FakeKps(project_id=PROJECT, token=TOKEN)
    with serve_in_thread(fake) as server:
        yield Served(fake, server)


class Waiting:
    """``python -m waiter`` running, its stderr read line by line as it comes."""

    def __init__(self, args: list[str], *, endpoint: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "waiter", "--endpoint", endpoint, "--project-id", PROJECT,
             *FAST, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "WAITER_AUTH_TOKEN": TOKEN},
        )  # fmt: skip
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self.listed = threading.Event()
        self._readers = [
            threading.Thread(target=self._read, args=(stream, lines), daemon=True)
            for stream, lines in (
                (self.proc.stdout, self.stdout_lines),
                (self.proc.stderr, self.stderr_lines),
            )
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str], lines: list[str]) -> None:
        with stream:
            for line in stream:
                lines.append(line)
                if '"tasks_listed"' in line:
                    self.listed.set()

    def finish(self) -> tuple[int, list[dict[str, Any]], str]:
        """The exit code, the result lines and stderr; no traceback, no token."""
        code, stdout, stderr = self.finish_text()
        return code, [json.loads(line) for line in stdout.splitlines()], stderr

    def finish_text(self) -> tuple[int, str, str]:
        """The exit code, stdout and stderr; no traceback, no token."""
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("waiter did not end")
        for reader in self._readers:
            reader.join(10)
        stdout, stderr = "".join(self.stdout_lines), "".join(self.stderr_lines)
        for text in (stdout, stderr):
            assert "Traceback" not in text
            assert TOKEN not in text
        return self.proc.returncode, stdout, stderr


def events(stderr: str, name: str) -> list[dict[str, Any]]:
    found = []
    for line in stderr.splitlines():
        if line.startswith("{") and f'"{name}"' in line:
            event = json.loads(line)
            if event["event"] == name:
                found.append(event)
    return found


def plain_lines(stderr: str) -> list[str]:
    """What stderr says to a person: the lines that are no JSON event."""
    return [line for line in stderr.splitlines() if not line.startswith("{")]


def run(kps: Served, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    return Waiting(list(args), endpoint=kps.server.url).finish()


# --- what is listed is waited on -------------------------------------------------------------


def test_every_running_task_on_every_page_is_waited_on(kps: Served):
    task_ids = [f"t{n:04d}" for n in range(1005)]  # two pages of at most 1000
    kps.running(*task_ids)
    kps.server.add_task("done-before", [(0, DONE)])

    waiting = Waiting(["--all", "--timeout", "120"], endpoint=kps.server.url)
    assert waiting.listed.wait(60), "the listing was not logged"
    kps.finish(*task_ids)
    code, results, stderr = waiting.finish()

    assert code == 0
    assert sorted(r["task_id"] for r in results) == task_ids  # each once, none other
    assert {r["outcome"] for r in results} == {"success"}
    [listed] = events(stderr, "tasks_listed")
    assert (listed["tasks"], listed["skipped"], listed["project_id"]) == (1005, 0, PROJECT)
    first_requests = kps.kps.listing_requests[:2]
    assert [r.task_id for r in first_requests] == ["running", "running"]
    [finished] = events(stderr, "run_finished")
    assert (finished["tasks"], finished["success"]) == (1005, 1005)


def test_ids_given_are_waited_on_with_the_listed_ones_each_once(kps: Served, tmp_path: Path):
    kps.running("r1", "r2")
    kps.server.add_task("given-done", [(0, DONE)])
    ids_file = tmp_path / "binds.json"
    ids_file.write_text('[{"task_id": "r1"}, {"task_id": "given-done"}]')

    waiting = Waiting(["--all", "r2", "--ids-file", str(ids_file)], endpoint=kps.server.url)
    assert waiting.listed.wait(60)
    kps.finish("r1", "r2")
    code, results, _ = waiting.finish()

    assert code == 0
    assert sorted(r["task_id"] for r in results) == ["given-done", "r1", "r2"]


def test_a_listed_task_that_fails_fails_the_run(kps: Served):
    kps.running("r1", "r2")

    waiting = Waiting(["--all"], endpoint=kps.server.url)
    assert waiting.listed.wait(60)
    kps.finish("r1")
    kps.server.add_task("r2", [(0, FAILED)])
    code, results, _ = waiting.finish()

    assert code == 1
    assert {r["task_id"]: r["outcome"] for r in results} == {"r1": "success", "r2": "failure"}


# --- nothing running -------------------------------------------------------------------------


def test_nothing_running_is_said_in_one_line_and_exits_0(kps: Served, tmp_path: Path):
    kps.server.add_task("finished-long-ago", [(0, DONE)])
    junit = tmp_path / "junit.xml"

    code, results, stderr = run(kps, "--all", "--junit-xml", str(junit))

    assert (code, results) == (0, [])
    assert plain_lines(stderr) == [
        f"waiter: no running tasks in project {PROJECT}: nothing to wait on"
    ]
    [event] = events(stderr, "no_running_tasks")
    assert event["project_id"] == PROJECT
    [finished] = events(stderr, "run_finished")
    assert finished["tasks"] == 0
    assert ElementTree.parse(junit).getroot().get("tests") == "0"  # the CI step finds its file
    assert kps.server.requests == []


def test_nothing_running_in_text_output_still_ends_with_the_summary(kps: Served):
    waiting = Waiting(["--all", "--output", "text"], endpoint=kps.server.url)
    code, stdout, stderr = waiting.finish_text()

    assert code == 0
    assert stdout.startswith("0 tasks in ")
    assert stdout.endswith(" s\n")
    assert stdout.count("\n") == 1
    assert "nothing to wait on" in stderr


def test_ids_given_and_nothing_running_waits_on_those(kps: Served):
    kps.server.add_task("t1", [(0, DONE)])

    code, results, stderr = run(kps, "--all", "t1")

    assert code == 0
    assert [r["task_id"] for r in results] == ["t1"]
    assert "nothing to wait on" not in stderr
    [listed] = events(stderr, "tasks_listed")
    assert listed["tasks"] == 0


# --- a listing that fails ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (Reply(403, "KPS.0004", "Forbidden: no permission for kps:domainKeypairs:getrunningtask"),
         "grant the credentials kps:domainKeypairs:getrunningtask (kps::getRunningTask in "
         "identity policies), or give the task IDs instead of --all"),
        (Reply(401, "APIGW.0301", "Incorrect IAM authentication information"),
         "fix the credentials: nothing was polled"),
    ],
    ids=["403", "401"],
)  # fmt: skip
def test_a_refused_listing_is_one_line_and_exits_4(kps: Served, reply: Reply, says: str):
    kps.kps.listing_reply = reply
    kps.running("t1")

    code, results, stderr = run(kps, "--all", "t1")

    assert code == 4
    [line] = plain_lines(stderr)
    assert line.startswith("waiter: error: --all: the running-tasks listing failed: ")
    assert f"(HTTP {reply.http_status}" in line
    assert line.endswith(f"; {says}")
    # The task given is reported once, as not waited on, and was never polled.
    [result] = results
    assert (result["task_id"], result["outcome"]) == ("t1", "error")
    assert result["error"].startswith("not waited on: --all could not list the running tasks (")
    assert kps.server.requests == []
    assert len(kps.kps.listing_requests) == 1  # a refusal is not retried
    [failed] = events(stderr, "listing_failed")
    assert failed["fix"] == says


def test_a_refused_listing_without_ids_still_exits_4(kps: Served):
    kps.kps.listing_reply = Reply(403, "KPS.0004", "Forbidden")

    code, results, stderr = run(kps, "--all")

    assert (code, results) == (4, [])
    assert len(plain_lines(stderr)) == 1


def test_an_endpoint_that_cannot_be_reached_is_tried_three_times_then_exit_4():
    waiting = Waiting(["--all", "t1"], endpoint=f"http://127.0.0.1:{closed_port()}")
    code, results, stderr = waiting.finish()

    assert code == 4
    [line] = plain_lines(stderr)
    assert line.startswith("waiter: error: --all: the running-tasks listing failed: ")
    assert line.endswith(
        "; it failed 3 times in a row: check --endpoint and the network, or try again later"
    )
    assert [e["attempt"] for e in events(stderr, "retry_scheduled")] == [1, 2]
    assert [(r["task_id"], r["outcome"]) for r in results] == [("t1", "error")]


# --- the deadline and signals during the listing --------------------------------------------


def test_the_deadline_during_the_listing_times_out_the_ids_given_exit_3(kps: Served):
    kps.kps.listing_reply = Reply(hang=True)

    code, results, stderr = run(kps, "--all", "--timeout", "1", "t1", "t2")

    assert code == 3
    assert sorted((r["task_id"], r["outcome"]) for r in results) == [
        ("t1", "timeout"),
        ("t2", "timeout"),
    ]
    assert {r["error"] for r in results} == {
        "deadline of 1 s reached while the running tasks were listed (--all)"
    }
    assert plain_lines(stderr) == [
        "waiter: deadline of 1 s reached while the running tasks were listed (--all); nothing "
        "more was waited on"
    ]
    assert kps.server.requests == []


def test_the_deadline_during_the_listing_without_ids_exits_3(kps: Served):
    kps.kps.listing_reply = Reply(hang=True)

    code, results, _ = run(kps, "--all", "--timeout", "1")

    assert (code, results) == (3, [])


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_the_listing_cancels_the_ids_given(kps: Served, signum: int, code: int):
    kps.kps.listing_reply = Reply(hang=True)

    waiting = Waiting(["--all", "--timeout", "600", "t1", "t2"], endpoint=kps.server.url)
    try:
        for _ in range(600):  # until the listing is asked for (a hung answer holds it there)
            if kps.kps.listing_requests:
                break
            threading.Event().wait(0.05)
        assert kps.kps.listing_requests, "waiter never asked for the listing"
    finally:
        waiting.proc.send_signal(signum)
    got, results, stderr = waiting.finish()

    assert got == code
    assert sorted((r["task_id"], r["outcome"]) for r in results) == [
        ("t1", "cancelled"),
        ("t2", "cancelled"),
    ]
    assert kps.server.requests == []
    assert "nothing to wait on" not in stderr


def test_a_signal_during_the_listing_without_ids_exits_with_its_code(kps: Served):
    kps.kps.listing_reply = Reply(hang=True)

    waiting = Waiting(["--all", "--timeout", "600"], endpoint=kps.server.url)
    try:
        for _ in range(600):
            if kps.kps.listing_requests:
                break
            threading.Event().wait(0.05)
    finally:
        waiting.proc.send_signal(signal.SIGTERM)
    code, results, stderr = waiting.finish()

    assert (code, results) == (143, [])
    assert "nothing to wait on" not in stderr


def test_the_deadline_during_start_up_lists_nothing_and_exits_3(kps: Served):
    async def hang(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(3600)  # IAM never names the project
        raise AssertionError("unreachable")

    iam = web.Application()
    iam.router.add_route("*", "/{tail:.*}", hang)
    with served_on_a_thread(iam) as iam_url:
        ran = subprocess.run(
            [sys.executable, "-m", "waiter", "--endpoint", kps.server.url, "--region",
             "cn-north-4", "--iam-endpoint", iam_url, *FAST, "--all", "--timeout", "1"],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "HUAWEICLOUD_SDK_AK": AK, "HUAWEICLOUD_SDK_SK": SK},
        )  # fmt: skip

    assert (ran.returncode, ran.stdout) == (3, "")
    assert "Traceback" not in ran.stderr
    [line] = plain_lines(ran.stderr)
    assert line.startswith("waiter: nothing is listed: deadline of 1 s reached during start-up")
    assert kps.kps.listing_requests == []


# --- only with KPS -------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["flag", "config"])
def test_all_with_another_api_is_bad_usage(kps: Served, tmp_path: Path, where: str):
    config = tmp_path / "config.toml"
    config.write_text('[api]\nkind = "ecs-job"\n')
    args = ["--api", "ecs-job"] if where == "flag" else ["--config", str(config)]
    source = "flag --api" if where == "flag" else f"config file {config}"

    ran = subprocess.run(
        [sys.executable, "-m", "waiter", "--endpoint", kps.server.url, "--project-id", PROJECT,
         "--all", *args],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "WAITER_AUTH_TOKEN": TOKEN},
    )  # fmt: skip

    assert (ran.returncode, ran.stdout) == (2, "")
    assert ran.stderr == (
        f"waiter: error: --all needs KPS's running-tasks listing, and the task API is ecs-job "
        f"(from {source}): give the task IDs instead, or use --api kps\n"
    )
    assert kps.kps.listing_requests == []
