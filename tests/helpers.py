"""Shared test helpers: settings aimed at the simulated KPS, and small servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any

from aiohttp import web
from conftest import PROJECT, TOKEN

from waiter import Settings, TaskResult, wait_for
from waiter.testing._fake import FakeKps


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
    or an async context manager that serves and yields its URL, such as ``FakeKps.serve()``;
    it is entered and left on the thread's loop, in one task. The thread is not a daemon: it
    is always stopped and joined here, and one that does not stop fails the test, rather than
    being dropped with the server half shut down. A server that fails to start raises its
    error here, in the test.
    """
    served = serving(server) if isinstance(server, web.Application) else server
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()  # bound to ``loop`` when first waited on, there
    url: Future[str] = Future()

    async def serve() -> None:
        try:
            async with served as base_url:
                url.set_result(base_url)
                await stop.wait()
        except BaseException as error:
            if url.done():
                raise  # after start-up: the thread's unhandled exception fails the test
            url.set_exception(error)

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve())

    thread = threading.Thread(target=run, name="served_on_a_thread")
    thread.start()
    try:
        yield url.result(10)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        assert not thread.is_alive(), "the server on its own thread did not stop"
        loop.close()
