"""The library's front door: :class:`Waiter` and :func:`wait_for`."""

from __future__ import annotations

import random
from collections.abc import AsyncGenerator, Iterable
from contextlib import aclosing
from types import TracebackType
from typing import Self

import aiohttp
import structlog

from ._clock import Clock, default_clock
from ._engine import Engine
from ._errors import WaiterError
from ._http import make_session
from ._preflight import Ready, check_ready
from ._result import Outcome, TaskResult
from ._settings import Settings
from ._startup import Started, start
from ._task_ids import check_task_ids

__all__ = ["Waiter", "wait_for"]


class Waiter:
    """Waits on tasks over one HTTP session; use it as an async context manager.

    >>> async with Waiter(settings) as waiter:
    ...     result = await waiter.wait("task-id")

    The settings are checked when the Waiter is made: a missing project ID, region or
    credentials raise :class:`waiter.ConfigError` before anything is sent. Entering it fetches
    what needs the network, once: temporary credentials (``auth.source = "ecs-metadata"``,
    then kept fresh) and the project ID from IAM when AK/SK come without one; when that fails
    it raises ConfigError too, and nothing is polled. ``clock`` and ``rng`` replace the
    event loop's time and the random jitter (for tests); ``logger`` replaces the structlog logger.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        logger: structlog.typing.FilteringBoundLogger | None = None,
        _ready: Ready | None = None,
    ) -> None:
        self.settings = settings
        # The command line checks the settings before any event loop starts and hands the
        # result over, so the token and profile files are read, and TLS set up, only once.
        self._ready = _ready or check_ready(settings)
        self._clock = clock or default_clock()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._log = logger or structlog.get_logger("waiter")
        self._session: aiohttp.ClientSession | None = None
        self._started: Started | None = None
        self._engine: Engine | None = None

    async def __aenter__(self) -> Self:
        self._session = make_session(self.settings, self._ready.tls)
        try:
            self._started = await start(self._session, self._ready, logger=self._log)
        except BaseException:
            await self._session.close()
            self._session = None
            raise
        ready = self._started.ready
        api = ready.kind.build(self._session, ready, self._started.auth)
        self._engine = Engine(
            api,
            self.settings,
            classifier=ready.classifier,
            clock=self._clock,
            rng=self._rng,
            logger=self._log,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._engine is not None:
                await self._engine.close()
            if self._started is not None:
                await self._started.close()
        finally:
            if self._session is not None:
                await self._session.close()
            self._engine = self._session = self._started = None

    async def wait(self, task_id: str) -> TaskResult:
        """Wait on one task and return its result."""
        async with aclosing(self.as_completed([task_id])) as results:
            async for result in results:
                return result
        raise AssertionError("unreachable: every task is reported")  # pragma: no cover

    def as_completed(self, task_ids: Iterable[str]) -> AsyncGenerator[TaskResult, None]:
        """Wait on many tasks; yield each result as its task ends.

        Duplicates are waited on once. Leaving the loop early cancels the remaining polls.
        """
        ids = check_task_ids(task_ids)
        if self._engine is None:
            raise WaiterError("use the Waiter as `async with Waiter(settings) as waiter:`")
        return self._engine.run(ids)

    def stop(self, reason: str = "cancelled") -> None:
        """End every unfinished task now as ``cancelled``; their results are still yielded."""
        if self._engine is not None:
            self._engine.stop(Outcome.CANCELLED, reason)


async def wait_for(
    task_ids: Iterable[str],
    settings: Settings,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    logger: structlog.typing.FilteringBoundLogger | None = None,
) -> list[TaskResult]:
    """Wait on every task; return the results in the order of ``task_ids`` (without duplicates)."""
    ids = check_task_ids(task_ids)
    by_id: dict[str, TaskResult] = {}
    waiter = Waiter(settings, clock=clock, rng=rng, logger=logger)
    async with waiter, aclosing(waiter.as_completed(ids)) as results:
        async for result in results:
            by_id[result.task_id] = result
    return [by_id[task_id] for task_id in ids]
