"""The library's front door: :class:`Waiter` and :func:`wait_for`."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, Iterable
from contextlib import aclosing
from types import TracebackType
from typing import Self

import aiohttp
import structlog

from ._apis._base import BulkTaskApi, TaskApi, TaskStatus
from ._apis._clients import client_for
from ._apis._task_ids import check_task_ids
from ._config._settings import Settings
from ._engine._clock import Clock, default_clock
from ._engine._engine import Engine, PendingTask
from ._engine._listing import running_task_ids
from ._errors import ConfigError, WaiterError
from ._event_log import BestEffortLog, library_log
from ._http._client import make_session
from ._plan._plan import Plan, make_plan
from ._plan._start import Access, start, start_up_work
from ._result import Outcome, TaskResult

__all__ = ["Waiter", "wait_for"]


class Waiter:
    """Waits on tasks over one HTTP session; use it as an async context manager.

    >>> async with Waiter(settings) as waiter:
    ...     result = await waiter.wait("task-id")

    The settings are checked when the Waiter is made: a missing project ID, region or
    credentials raise :class:`waiter.ConfigError` before anything is sent. Entering it fetches
    what needs the network, once: temporary credentials (``auth.source = "ecs-metadata"``,
    then kept fresh) and the project ID from IAM when AK/SK come without one; when that fails
    it raises ConfigError too, and nothing is polled. Start-up is bounded by ``timeout``: when
    it takes longer, entering succeeds and every wait ends at once as ``timeout``; :meth:`stop`
    before or during start-up ends every wait at once as ``cancelled``.

    ``clock`` and ``rng`` replace the event loop's time and the random jitter (for tests);
    ``logger`` replaces where events go: by default the application's structlog configuration
    when it has one, else the stdlib logger ``"waiter"`` (see :func:`waiter.log_to_stdlib`),
    decided when the Waiter is made. Logging is best effort: an event that cannot be
    written (a processor that raises, a closed stderr) is dropped, and the wait goes on.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        logger: structlog.typing.FilteringBoundLogger | None = None,
    ) -> None:
        self._set_up(make_plan(settings), clock, rng, logger)

    @classmethod
    def _from_plan(
        cls,
        plan: Plan,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        logger: structlog.typing.FilteringBoundLogger | None = None,
    ) -> Waiter:
        """A Waiter for a plan made already: the command line plans before any event loop
        starts, so the token and profile files are read, and TLS set up, only once."""
        waiter = cls.__new__(cls)
        waiter._set_up(plan, clock, rng, logger)
        return waiter

    def _set_up(
        self,
        plan: Plan,
        clock: Clock | None,
        rng: random.Random | None,
        logger: structlog.typing.FilteringBoundLogger | None,
    ) -> None:
        self.settings = plan.settings
        self._plan = plan
        self._clock = clock or default_clock()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._log = library_log() if logger is None else BestEffortLog(logger)
        self._session: aiohttp.ClientSession | None = None
        self._access: Access | None = None
        self._engine: Engine | None = None
        self._starting: asyncio.Future[Access] | None = None
        self._listing: asyncio.Future[list[str]] | None = None  # running_tasks(), while it lists
        self._entered_at = 0.0
        # Why every wait ends at once (stop() was called, start-up ran out of time), if so.
        self._ended: tuple[Outcome, str] | None = None

    async def __aenter__(self) -> Self:
        self._entered_at = self._clock.now()
        plan = self._plan
        self._session = make_session(
            plan.tls,
            connections=plan.policy.max_in_flight,
            request_timeout=plan.request_timeout,
        )
        try:
            self._access = await self._start(self._session)
        except BaseException:
            await self._session.close()
            self._session = None
            raise
        api = _NotStarted() if self._access is None else self._client(self._session, self._access)
        self._engine = Engine(
            api,
            plan.policy,
            clock=self._clock,
            rng=self._rng,
            logger=self._log,
        )
        if self._ended is not None:
            self._engine.stop(*self._ended)
        return self

    def _client(self, session: aiohttp.ClientSession, access: Access) -> TaskApi:
        plan = self._plan
        return client_for(
            plan.api.name,
            session,
            endpoints=(plan.endpoint, *plan.fallbacks),
            project_id=access.project_id,
            auth=access.auth,
            status_field=plan.status_field,
        )

    async def _start(self, session: aiohttp.ClientSession) -> Access | None:
        """start(), bounded by the deadline and ended by stop(); None when it did not finish."""
        if self._ended is not None:
            return None  # stopped before entering: nothing to start for
        timeout = self._plan.policy.timeout
        self._starting = asyncio.ensure_future(start(session, self._plan, logger=self._log))
        try:
            async with asyncio.timeout(timeout):
                return await self._starting
        except TimeoutError:
            work = start_up_work(self._plan)
            self._ended = (
                Outcome.TIMEOUT,
                f"deadline of {timeout:g} s reached during start-up ({work})",
            )
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._ended is None or (current is not None and current.cancelling()):
                raise  # cancelled from outside, not by stop()
        finally:
            self._starting = None
        self._log.warning("start_up_ended", outcome=self._ended[0].value, error=self._ended[1])
        return None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._engine is not None:
                await self._engine.close()
            if self._access is not None:
                await self._access.close()
        finally:
            if self._session is not None:
                await self._session.close()
            self._engine = self._session = self._access = None

    async def wait(self, task_id: str) -> TaskResult:
        """Wait on one task and return its result."""
        async with aclosing(self.as_completed([task_id])) as results:
            async for result in results:
                return result
        raise AssertionError("unreachable: every task is reported")  # pragma: no cover

    def as_completed(self, task_ids: Iterable[str]) -> AsyncGenerator[TaskResult, None]:
        """Wait on many tasks; yield each result as its task ends.

        Duplicates are waited on once. Leaving the loop early cancels the remaining polls.
        The deadline (``timeout``) counts from this call.
        """
        return self._run(task_ids, since_entry=False)

    async def running_tasks(self) -> list[str]:
        """The IDs of every task KPS's running-tasks listing shows now, to wait on them all.

        Every page is read, through the rate limit the polls share; the IDs come in the
        listing's order, each once (one the task ID check would refuse is left out, and
        counted in the ``tasks_listed`` event). For ``api="kps"`` only: another API raises
        :class:`waiter.ConfigError`. A refusal (401; 403, when the credentials lack
        ``kps:domainKeypairs:getrunningtask``) raises its :class:`waiter.ApiError` at once; a
        fault worth retrying (429, 5xx, unreachable) is retried on the wait schedule, and
        raised after three tries. :meth:`stop`, before or while it lists, and a start-up that
        ran out of time make it raise :class:`waiter.WaiterError`.
        """
        engine, access = self._engine, self._access
        if engine is None:
            raise WaiterError("use the Waiter as `async with Waiter(settings) as waiter:`")
        if self._ended is not None:
            raise WaiterError(f"nothing is listed: {self._ended[1]}")
        api = engine.api
        if self._plan.api.name != "kps" or not isinstance(api, BulkTaskApi) or access is None:
            raise ConfigError(
                f"running_tasks() needs KPS's running-tasks listing, and api is "
                f"{self._plan.api.name!r}: use api='kps', or give the task IDs",
                setting="api",
            )
        self._listing = asyncio.ensure_future(running_task_ids(engine, api, access.project_id))
        try:
            return await self._listing
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._ended is None or (current is not None and current.cancelling()):
                raise  # cancelled from outside, not by stop()
            raise WaiterError(f"the listing was stopped: {self._ended[1]}") from None
        finally:
            self._listing = None

    def _run(
        self, task_ids: Iterable[str], *, since_entry: bool
    ) -> AsyncGenerator[TaskResult, None]:
        """as_completed(); ``since_entry``: the deadline counts from entering, start-up included.

        (What wait_for and the command line promise: the whole call ends by the deadline.)
        """
        ids = check_task_ids(task_ids)
        if self._engine is None:
            raise WaiterError("use the Waiter as `async with Waiter(settings) as waiter:`")
        return self._engine.run(ids, started_at=self._entered_at if since_entry else None)

    def _pending(self, limit: int) -> list[PendingTask]:
        """The unfinished tasks with their last status, when at most ``limit`` are left (for
        the command line's live display; see Engine.pending)."""
        return self._engine.pending(limit) if self._engine is not None else []

    def stop(self, reason: str = "cancelled") -> None:
        """End every unfinished task now as ``cancelled``; their results are still yielded.

        Works at any time: before or while the Waiter starts or lists, and for waits begun
        later.
        """
        self._end_waits(Outcome.CANCELLED, reason)

    def _end_waits(self, outcome: Outcome, reason: str) -> None:
        """stop() with any outcome: the command line ends its waits as ``timeout`` when the
        deadline passes while it lists the running tasks, as ``error`` when the listing fails."""
        if self._ended is None:
            self._ended = (outcome, reason)
        for pending in (self._starting, self._listing):
            if pending is not None:
                pending.cancel()
        if self._engine is not None:
            self._engine.stop(outcome, reason)


async def wait_for(
    task_ids: Iterable[str],
    settings: Settings,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    logger: structlog.typing.FilteringBoundLogger | None = None,
) -> list[TaskResult]:
    """Wait on every task; return the results in the order of ``task_ids`` (without duplicates).

    No task IDs: the settings are still checked, nothing is sent, and the answer is ``[]``.
    """
    ids = check_task_ids(task_ids)
    by_id: dict[str, TaskResult] = {}
    waiter = Waiter(settings, clock=clock, rng=rng, logger=logger)
    if not ids:
        return []  # before entering: start-up may reach IAM or the metadata service
    async with waiter, aclosing(waiter._run(ids, since_entry=True)) as results:
        async for result in results:
            by_id[result.task_id] = result
    return [by_id[task_id] for task_id in ids]


class _NotStarted:
    """The API of a Waiter whose start-up did not finish: its waits end before any poll."""

    async def fetch(self, task_id: str) -> TaskStatus:
        raise AssertionError("unreachable: a Waiter that did not start polls nothing")
