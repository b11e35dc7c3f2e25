"""Test helpers for code that uses waiter: a fake KPS, instant waits, and a standalone server.

**A fake KPS in your own tests.** :func:`fake_kps` serves the simulated KPS task API on
127.0.0.1, on the running event loop, with tasks scripted as timelines of
``(seconds, status)`` steps counted from when the server starts (a task does not exist before
its first step). A step may also be a :class:`Reply`, an error answer such as
``Reply(503, "SYS.0503")``::

    from waiter import wait_for
    from waiter.testing import fake_kps

    async def test_reset_finishes():
        tasks = {"task-1": [(0, "READY_RESET"), (2, "RUNNING_RESET"), (5, "SUCCESS_RESET")]}
        async with fake_kps(tasks) as kps:
            [result] = await wait_for(["task-1"], kps.settings(min_interval=0.5))
        assert result.outcome.value == "success"

:func:`fake_kps_in_thread` is the same server on a background thread, for synchronous code and
any async framework. With the package installed, pytest also offers it as the ``fake_kps``
fixture (and ``waiter_testing``, which turns on instant waits for one test); the plugin does
nothing in tests that do not ask for them.

**Instant waits.** Like stamina's, a testing switch takes the waiting out of waits:
:func:`set_testing` (or the :func:`testing` context manager) makes every :class:`waiter.Waiter`
created without an explicit ``clock`` share one virtual clock that jumps instead of sleeping.
Deadlines and back-off still apply, in virtual seconds. The switch is **process-wide**: turn it
off again when the test ends (the ``waiter_testing`` fixture does). The fake servers of this
module keep their timelines on the event loop's time *plus* every second that virtual clock has
skipped, so a task scripted to finish at 300 s finishes after 300 s of waiting: at once when
testing is on, in real time when it is off.

**Standalone server.** ``python -m waiter.testing --scenario FILE [--port N] [--host H]`` serves
a scenario file until SIGINT or SIGTERM, for testing programs in other languages, shell
scripts or the ``waiter`` command itself. It listens on loopback addresses only, prints
``fake KPS listening on http://127.0.0.1:PORT (project PROJECT)`` once it is ready (with
``--port 0`` the system picks the port), and exits 0 when stopped. Bad arguments or a bad file
give one line on stderr and exit 2. A scenario file is TOML (``examples/scenario.toml``)::

    project_id = "0123456789abcdef0123456789abcdef"   # optional; this is the default
    token = "fake-token"    # optional: requests must then send it as X-Auth-Token

    [[task]]
    id = "aee8d2fe-5484-4753-9177-5a38dc15546c"         # 1-128 of A-Z a-z 0-9 . _ -
    server_id = "c9aa197b-a6b6-4c33-b3a6-fa0b4ec50006"  # optional
    timeline = [[0, "READY_RESET"], [2, "RUNNING_RESET"], [6, "SUCCESS_RESET"]]

    [[task]]
    id = "throttled-then-fails"
    timeline = [[0, "RUNNING_RESET"], [3, "FAILED_RESET"]]
    # Request number (1 = the task's first request) -> the error answer to give instead.
    faults = { 1 = { status = 429, code = "APIGW.0308", headers = { Retry-After = "2" } } }

Timeline times are seconds from the server's start, in order. A step's second item is a status
or a fault table. A fault table has ``status`` (HTTP status 200-599; required unless
``hang``), and optionally ``code`` and ``message`` (Huawei's ``error_code`` / ``error_msg``),
``headers`` (a table of strings), ``body`` (raw text sent instead of the JSON error),
``hang = true`` (never answer) or ``reset = true`` (drop the connection mid-answer).

Added in 0.1.0.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import signal
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, NoReturn

from ._clock import InstantClock, default_clock, set_default_clock
from ._fake import FakeKps, Reply, SeenRequest, Step
from ._preflight import is_loopback
from ._scenario import (
    DEFAULT_PROJECT_ID,
    ScenarioError,
    add_to,
    check_project_id,
    check_replies,
    check_task_id,
    check_timeline,
    check_token,
    load_scenario,
)
from ._settings import Settings

__all__ = [
    "FakeKpsServer",
    "Reply",
    "ScenarioError",
    "SeenRequest",
    "fake_kps",
    "fake_kps_in_thread",
    "is_testing",
    "main",
    "set_testing",
    "testing",
]

Timelines = Mapping[str, Sequence[Step]]

# Sent by settings() when the server takes any token: the client refuses to run without one.
_ANY_TOKEN = "fake-kps-token"  # noqa: S105 - a placeholder, not a secret
# One virtual clock for the whole process, never replaced: the fake servers add the time it has
# skipped to their own, and a replaced clock would make their time run backwards.
_TESTING_CLOCK = InstantClock()


# --- the testing switch ------------------------------------------------------------------------


def set_testing(enabled: bool = True) -> None:
    """Turn instant waits on or off, for the whole process.

    On: every :class:`waiter.Waiter` (and :func:`waiter.wait_for`) created from now on without
    an explicit ``clock`` uses one shared virtual clock that jumps over waits instead of
    sleeping. Off: they use the event loop's clock again. Waiters already made keep their clock.

    Added in 0.1.0.
    """
    set_default_clock(_TESTING_CLOCK if enabled else None)


def is_testing() -> bool:
    """Whether instant waits are on (see :func:`set_testing`).

    Added in 0.1.0.
    """
    return default_clock() is _TESTING_CLOCK


@contextmanager
def testing(enabled: bool = True) -> Iterator[None]:  # noqa: PT028 - not a test
    """:func:`set_testing` for a ``with`` block; the previous state comes back afterwards.

    Added in 0.1.0.
    """
    was = is_testing()
    set_testing(enabled)
    try:
        yield
    finally:
        set_testing(was)


# Its name starts with "test": without this, pytest would collect it from any test module that
# imports it, and call it as a test.
testing.__test__ = False  # type: ignore[attr-defined]


def _timeline_now() -> float:
    """The fake servers' time: the loop's, plus whatever the testing clock has jumped over."""
    return asyncio.get_running_loop().time() + _TESTING_CLOCK.now()


# --- the server handle -------------------------------------------------------------------------


class FakeKpsServer:
    """A running simulated KPS, as :func:`fake_kps` and the ``fake_kps`` fixture yield it.

    ``url`` is its base URL, ``project_id`` the only project it knows, ``token`` the token it
    demands (``None``: any token). Safe to use from any thread.

    Added in 0.1.0.
    """

    def __init__(self, kps: FakeKps, url: str, loop: asyncio.AbstractEventLoop) -> None:
        self._kps = kps
        self._url = url
        self._loop = loop
        self._loop_thread = threading.get_ident()  # made on the thread that runs the loop

    def __repr__(self) -> str:
        return f"FakeKpsServer(url={self._url!r}, project_id={self._kps.project_id!r})"

    @property
    def url(self) -> str:
        """The base URL, such as ``http://127.0.0.1:41234``: the ``endpoint`` setting."""
        return self._url

    @property
    def project_id(self) -> str:
        return self._kps.project_id

    @property
    def token(self) -> str | None:
        return self._kps.token

    @property
    def requests(self) -> list[SeenRequest]:
        """Every task request the server has seen so far, oldest first (a copy)."""
        return list(self._kps.requests)

    def requests_for(self, task_id: str) -> list[SeenRequest]:
        """The requests for one task, oldest first."""
        return [request for request in self.requests if request.task_id == task_id]

    def add_task(
        self,
        task_id: str,
        timeline: Sequence[Step],
        *,
        server_id: str | None = None,
        replies: Mapping[int, Reply] | None = None,
    ) -> None:
        """Script a task whose timeline counts from now.

        ``replies`` answers given requests of this task with a fault instead (``{1: Reply(503)}``
        answers its first request with a 503). A malformed argument raises ``ValueError``.
        """
        task_id, steps, checked = _checked_task(task_id, timeline, replies)

        def add() -> None:
            self._kps.add_task(task_id, steps, server_id=server_id, replies=checked)

        self._on_loop(add)

    def settings(self, **overrides: Any) -> Settings:
        """:class:`waiter.Settings` aimed at this server; ``overrides`` set any other field.

        The token is this server's, or a placeholder when it takes any token.
        """
        values: dict[str, Any] = {
            "endpoint": self._url,
            "project_id": self._kps.project_id,
            "token": self._kps.token or _ANY_TOKEN,
        }
        values.update(overrides)
        return Settings(**values)

    def _on_loop(self, action: Callable[[], None]) -> None:
        # The simulated server belongs to its loop: from another thread, hand the change over.
        if threading.get_ident() == self._loop_thread:
            action()
            return

        async def run() -> None:
            action()

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)


def _checked_task(
    task_id: object, timeline: Sequence[Step], replies: Mapping[int, Reply] | None
) -> tuple[str, tuple[Step, ...], dict[int, Reply]]:
    task_id = check_task_id(task_id, "task ID")
    where = f"task {task_id!r}"
    return task_id, check_timeline(timeline, where), check_replies(replies or {}, where)


# --- serving -----------------------------------------------------------------------------------


@asynccontextmanager
async def fake_kps(
    tasks: Timelines | None = None,
    *,
    project_id: str = DEFAULT_PROJECT_ID,
    token: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> AsyncIterator[FakeKpsServer]:
    """Serve the simulated KPS on the running event loop until the block ends.

    ``tasks`` maps task IDs to timelines, counted from when the server starts. ``token`` set:
    requests must carry it in ``X-Auth-Token``. ``host`` must be a loopback address; ``port=0``
    picks a free port. Bad arguments raise ``ValueError`` before anything listens.

    >>> async with fake_kps({"t1": [(0, "RUNNING_RESET"), (5, "SUCCESS_RESET")]}) as kps:
    ...     results = await waiter.wait_for(["t1"], kps.settings())

    Added in 0.1.0.
    """
    kps = _make_kps(tasks, project_id=project_id, token=token, host=host, port=port)
    async with kps.serve(host, port) as url:
        yield FakeKpsServer(kps, _bracketed(url, host), asyncio.get_running_loop())


@contextmanager
def fake_kps_in_thread(
    tasks: Timelines | None = None,
    *,
    project_id: str = DEFAULT_PROJECT_ID,
    token: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[FakeKpsServer]:
    """:func:`fake_kps` on a background thread with its own event loop, for any caller.

    Use it from synchronous tests, or from tests on an event loop of any framework: the server
    never competes with your loop. Everything is shut down when the block ends.

    Added in 0.1.0.
    """
    # Checked here, so a mistake raises in the caller's thread with the caller's traceback.
    kps = _make_kps(tasks, project_id=project_id, token=token, host=host, port=port)
    background = _Background(kps, host, port)
    server = background.start()
    try:
        yield server
    finally:
        background.stop()


def _make_kps(
    tasks: Timelines | None, *, project_id: str, token: str | None, host: str, port: int
) -> FakeKps:
    _check_loopback(host)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be 0-65535 (0 picks a free port), got {port!r}")
    kps = FakeKps(
        project_id=check_project_id(project_id, "fake_kps()"),
        token=check_token(token, "fake_kps()"),
        clock=_timeline_now,
    )
    for given_id, timeline in (tasks or {}).items():
        task_id, steps, _ = _checked_task(given_id, timeline, None)
        kps.add_task(task_id, steps)
    return kps


class _Background:
    """A FakeKps served by its own thread and event loop until stopped."""

    def __init__(self, kps: FakeKps, host: str, port: int) -> None:
        self._kps = kps
        self._host = host
        self._port = port
        self._started: concurrent.futures.Future[FakeKpsServer] = concurrent.futures.Future()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # A daemon, so a server nobody stopped cannot keep the test process alive.
        self._thread = threading.Thread(target=self._run, name="waiter-fake-kps", daemon=True)

    def start(self) -> FakeKpsServer:
        self._thread.start()
        return self._started.result(timeout=30)  # re-raises a failure to listen, say

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # handed to the thread waiting in start()
            if not self._started.done():
                self._started.set_exception(error)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with self._kps.serve(self._host, self._port) as url:
            self._started.set_result(
                FakeKpsServer(self._kps, _bracketed(url, self._host), self._loop)
            )
            await self._stop.wait()


def _check_loopback(host: str) -> None:
    """Refuse to serve anywhere but this machine: the fake must never be reachable from outside."""
    if not is_loopback(host):
        raise ValueError(
            f"host {host!r} is not a loopback address: the fake KPS listens only on "
            "127.0.0.1, ::1 or localhost"
        )


def _bracketed(url: str, host: str) -> str:
    # FakeKps.serve writes the host as given; an IPv6 address needs brackets in a URL.
    if ":" not in host:
        return url
    port = url.rsplit(":", 1)[1]
    return f"http://[{host}]:{port}"


# --- python -m waiter.testing ------------------------------------------------------------------

_PROG = "python -m waiter.testing"
EXIT_OK, EXIT_USAGE = 0, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: it usually lands in a CI log.
        self.exit(EXIT_USAGE, f"{_PROG}: error: {message} (see --help)\n")


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0-65535 (0 picks a free port), got {port}")
    return port


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=_PROG,
        description="Serve a scripted, simulated KPS task API on this machine until SIGINT or "
        "SIGTERM. The scenario format is in examples/scenario.toml.",
    )
    parser.add_argument("--scenario", metavar="FILE", required=True, help="scenario file (TOML)")
    parser.add_argument("--port", type=_port, default=0, help="port; 0 (default) picks one")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the standalone fake KPS; return the exit code (0 when stopped by a signal).

    Added in 0.1.0.
    """
    args = _build_parser().parse_args(argv)
    try:
        _check_loopback(args.host)
        scenario = load_scenario(Path(args.scenario))
    except ValueError as error:
        return _usage_error(str(error))
    kps = FakeKps(project_id=scenario.project_id, token=scenario.token)
    add_to(kps, scenario)
    try:
        asyncio.run(_serve_until_signalled(kps, args.host, args.port))
    except OSError as error:
        return _usage_error(f"cannot listen on {args.host} port {args.port}: {error.strerror}")
    except KeyboardInterrupt:
        pass  # SIGINT before the handler was in place: still a clean stop
    return EXIT_OK


async def _serve_until_signalled(kps: FakeKps, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not on Windows, where Ctrl+C raises KeyboardInterrupt instead (caught in main).
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with kps.serve(host, port) as url:
        print(f"fake KPS listening on {_bracketed(url, host)} (project {kps.project_id})")
        sys.stdout.flush()  # a script waiting for this line must not wait for a buffer
        await stop.wait()


def _usage_error(message: str) -> int:
    print(f"{_PROG}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
