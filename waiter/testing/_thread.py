"""An async server served on a thread and event loop of its own, for any caller.

The fake KPS's own loop never competes with the caller's: synchronous tests, tests on any async
framework, and programs that run their own loop (the command line in-process) can all use it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass

__all__ = ["ServingThread", "served_on_a_thread"]

_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 30.0


@dataclass(frozen=True)
class ServingThread:
    """Where the server listens, and the loop it runs on (to hand it work from other threads)."""

    url: str
    loop: asyncio.AbstractEventLoop


@contextmanager
def served_on_a_thread(served: AbstractAsyncContextManager[str]) -> Iterator[ServingThread]:
    """Enter ``served`` (which serves and yields its URL) on a new thread's loop until the end.

    It is entered and left in one task on that loop. A server that fails to start raises its
    error here, in the caller's thread. The thread is a daemon, so a server whose shutdown
    hangs cannot keep the process alive; leaving the block waits for it to stop.
    """
    started: concurrent.futures.Future[ServingThread] = concurrent.futures.Future()
    stop: list[asyncio.Event] = []

    async def serve() -> None:
        stop.append(asyncio.Event())
        try:
            async with served as url:
                started.set_result(ServingThread(url, asyncio.get_running_loop()))
                await stop[0].wait()
        except BaseException as error:
            if started.done():
                raise  # after start-up: the thread's own unhandled exception
            started.set_exception(error)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="waiter-fake-kps")
    thread.daemon = True
    thread.start()
    try:
        yield started.result(timeout=_START_TIMEOUT)
    finally:
        if started.done() and started.exception() is None:
            started.result().loop.call_soon_threadsafe(stop[0].set)
        thread.join(timeout=_STOP_TIMEOUT)
