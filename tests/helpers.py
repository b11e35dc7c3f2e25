"""Shared test helpers: the suite's constants, settings aimed at the simulated KPS, and small
servers on 127.0.0.1 (on the test's loop, or on a thread of their own).

A plain module, imported as ``helpers`` from any folder of the suite (``tests/`` is on
``sys.path`` because ``tests/conftest.py`` is there); fixtures live in ``conftest.py``.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from waiter import ConfigError, Settings, TaskResult, wait_for
from waiter._cli._main import main
from waiter._config._settings import load_settings
from waiter._config._table import SPECS
from waiter.testing._fake import FakeKps
from waiter.testing._server import FakeKpsServer, serve_in_thread
from waiter.testing._thread import served_on_a_thread as _served_on_a_thread

TOKEN = "test-token-3f9a1c"
PROJECT = "0123456789abcdef0123456789abcdef"
RUNNING, DONE = "RUNNING_RESET", "SUCCESS_RESET"

# Access keys: the pair the simulated servers know, another pair, and a wrong secret key.
AK = "HPUAEXAMPLEKEY0000001"
SK = "sk-secret-5f0e7d4c3b2a"
ST = "st-secret-9a8b7c6d5e4f"
OTHER_AK = "HPUAOTHERKEY000000002"
OTHER_SK = "sk-secret-other-71c2e0"
WRONG_SK = "sk-wrong-0000aaaa1111"
REGION = "cn-north-4"
SDK_PAIR = {"HUAWEICLOUD_SDK_AK": AK, "HUAWEICLOUD_SDK_SK": SK}
HW_PAIR = {"HW_ACCESS_KEY": OTHER_AK, "HW_SECRET_KEY": OTHER_SK}
METADATA = {"WAITER_AUTH_SOURCE": "ecs-metadata"}
# Flags (as the command line gives them) for a quick wait on a simulated server.
FAST_FLAGS = {"min_interval": "1", "max_interval": "8", "timeout": "120", "rate": "1000"}
# The settings that are secrets: never in a file, a flag or a repr.
SECRET_NAMES = {spec.name for spec in SPECS if spec.secret}


# --- files, settings and errors ----------------------------------------------------------------


def write(path: Path, text: str | bytes, mode: int = 0o600) -> Path:
    """Write ``text`` to ``path`` (its folders made), readable by its owner only by default."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def config_error(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    """The message, checked to be the one line the command line prints."""
    message = str(excinfo.value)
    assert message.strip(), "a ConfigError must say something"
    assert "\n" not in message, f"not one line: {message!r}"
    assert "\r" not in message, f"not one line: {message!r}"
    return message


def basic_profile(ak: str = AK, sk: str = SK, **more: str) -> str:
    """The text of an SDK profile file whose ``[basic]`` section holds these keys."""
    lines = ["[basic]", f"ak = {ak}", f"sk = {sk}", *(f"{k} = {v}" for k, v in more.items())]
    return "\n".join(lines) + "\n"


def cli_settings(env: dict[str, str], config: str = "", **flags: str) -> Settings:
    """Settings as the command line loads them, so each value's source is known."""
    path = write(Path.home() / "waiter.toml", config) if config else None
    return load_settings(flags={**FAST_FLAGS, **flags}, config_path=path, env=env).settings


def run_main(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """The command line in-process, with empty stdin: its exit code, stdout and stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(), stdout=stdout, stderr=stderr, env=env)
    return code, stdout.getvalue(), stderr.getvalue()


# --- the simulated KPS -------------------------------------------------------------------------


def settings_for(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "endpoint": url,
        "project_id": PROJECT,
        "token": TOKEN,
        "min_interval": 1.0,
        "max_interval": 8.0,
        "timeout": 120.0,
        "rate": 1000.0,
    }
    values.update(overrides)
    return Settings(**values)


def fake_kps() -> FakeKps:
    return FakeKps(project_id=PROJECT, token=TOKEN)


def signing_kps(**options: Any) -> FakeKps:
    """The simulated KPS checking AK/SK signatures (``AK``/``SK`` unless ``access_keys``)."""
    options.setdefault("access_keys", {AK: SK})
    return FakeKps(project_id=PROJECT, **options)


async def wait_on(kps: FakeKps, task_ids: list[str], **overrides: Any) -> list[TaskResult]:
    async with kps.serve() as url:
        return await wait_for(task_ids, settings_for(url, **overrides))


def by_id(results: list[TaskResult]) -> dict[str, TaskResult]:
    return {result.task_id: result for result in results}


# --- servers on 127.0.0.1 ----------------------------------------------------------------------


# Bound and never listening: a connection to one is refused, and, held until the process ends,
# no server of another test (another xdist worker) can take its port in the meantime.
_CLOSED: list[socket.socket] = []


def closed_port() -> int:
    """A port on 127.0.0.1 that refuses connections for as long as the tests run."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    _CLOSED.append(probe)
    return int(probe.getsockname()[1])


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 on a free port; yields its base URL.

    One place for the few lines every test server needs. No access log (noise in a failing
    test's output) and a short shutdown, so a handler that hangs on purpose does not hold the
    server open when the test is done with it.
    """
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@contextmanager
def served_on_a_thread(
    server: web.Application | AbstractAsyncContextManager[str],
) -> Iterator[str]:
    """Serve on a thread and event loop of its own; yields the base URL, stops on leaving.

    For code that runs its own event loop - the command line in-process (``main``), or a
    subprocess - and so cannot share the test's. ``server`` is an app (served by ``serving``)
    or an async context manager that serves and yields its URL, such as ``FakeKps.serve()``.
    A thin wrapper over ``waiter.testing``'s own thread, which enters and leaves it on the
    thread's loop, in one task, and raises a server's start-up error here, in the test. One
    thing is added: a server that has not stopped by the end of the block fails the test
    (the library's thread is a daemon and would let it go).
    """
    served = serving(server) if isinstance(server, web.Application) else server
    stopped = threading.Event()

    @asynccontextmanager
    async def watched() -> AsyncIterator[str]:
        try:
            async with served as url:
                yield url
        finally:
            stopped.set()

    with _served_on_a_thread(watched()) as thread:
        yield thread.url
    assert stopped.is_set(), "the server on its own thread did not stop"


@contextmanager
def kps_on_a_thread(**options: Any) -> Iterator[FakeKpsServer]:
    """The simulated KPS (``PROJECT``, ``TOKEN``) on its own thread and loop, in real time.

    For subprocess and in-process command-line tests. ``options`` go to ``FakeKps`` (such as
    ``timelines_from_first_poll=True`` or ``access_keys=...``). The server it yields takes
    ``add_task`` from the test's thread and shows the ``requests`` seen so far.
    """
    with serve_in_thread(FakeKps(project_id=PROJECT, token=TOKEN, **options)) as server:
        yield server
