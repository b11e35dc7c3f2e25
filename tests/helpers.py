"""Shared test helpers: the suite's constants, settings aimed at the simulated KPS, and small
servers on 127.0.0.1 (on the test's loop, or on a thread of their own).

A plain module, imported as ``helpers`` from any folder of the suite (``tests/`` is on
``sys.path`` because ``tests/conftest.py`` is there); fixtures live in ``conftest.py``.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any

from aiohttp import web

from waiter import Settings, TaskResult, wait_for
from waiter.testing._fake import FakeKps
from waiter.testing._server import FakeKpsServer, serve_in_thread
from waiter.testing._thread import served_on_a_thread as _served_on_a_thread

TOKEN = "test-token-3f9a1c"
PROJECT = "0123456789abcdef0123456789abcdef"


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


async def wait_on(kps: FakeKps, task_ids: list[str], **overrides: Any) -> list[TaskResult]:
    async with kps.serve() as url:
        return await wait_for(task_ids, settings_for(url, **overrides))


def by_id(results: list[TaskResult]) -> dict[str, TaskResult]:
    return {result.task_id: result for result in results}


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
