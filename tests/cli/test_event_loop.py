"""WAITER_EVENT_LOOP: the command line's event loop, uvloop's when installed, else asyncio's."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator

import pytest
from helpers import PROJECT, TOKEN, kps_on_a_thread

from waiter._cli._main import main
from waiter.testing._server import FakeKpsServer

DONE = "SUCCESS_RESET"


@pytest.fixture
def server() -> Iterator[FakeKpsServer]:
    with kps_on_a_thread() as server:
        server.add_task("ok", [(0, DONE)])
        yield server


def _run(server: FakeKpsServer, loop: str | None) -> tuple[int, str]:
    env = {"WAITER_AUTH_TOKEN": TOKEN, "HOME": "/nonexistent"}
    if loop is not None:
        env["WAITER_EVENT_LOOP"] = loop
    argv = [
        "--endpoint", server.url, "--project-id", PROJECT, "--log-format", "json", "-v", "ok",
    ]  # fmt: skip
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(""), stdout=stdout, stderr=stderr, env=env)
    return code, stderr.getvalue()


def _loop_kind(stderr: str) -> str:
    [event] = [e for e in map(json.loads, stderr.splitlines()) if e["event"] == "event_loop"]
    return str(event["kind"])


def test_asyncio_chosen_runs_the_wait_on_asyncios_loop(server: FakeKpsServer):
    code, stderr = _run(server, "asyncio")

    assert code == 0
    assert _loop_kind(stderr).startswith("asyncio")


@pytest.mark.parametrize("loop", [None, "", "auto", "uvloop", " UVLOOP "])
def test_uvloop_runs_the_wait_when_installed_unless_asyncio_is_chosen(
    server: FakeKpsServer, loop: str | None
):
    pytest.importorskip("uvloop")

    code, stderr = _run(server, loop)

    assert code == 0
    assert _loop_kind(stderr).startswith("uvloop")


def test_an_unknown_loop_is_bad_usage_naming_the_variable(server: FakeKpsServer):
    code, stderr = _run(server, "trio")

    assert code == 2
    assert "WAITER_EVENT_LOOP must be auto, asyncio or uvloop, got 'trio'" in stderr
    assert not server.requests  # nothing was polled


def test_uvloop_asked_for_but_missing_says_how_to_install_it(
    server: FakeKpsServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # its import fails

    code, stderr = _run(server, "uvloop")

    assert code == 2
    assert "uvloop is not installed: pip install 'task-waiter[fast]'" in stderr
