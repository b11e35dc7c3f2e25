"""The engine: polls many tasks until each ends, and ends each exactly once.

Structure, chosen for scale: a task is a small record in a heap ordered by when its next poll
falls due, not a coroutine of its own. One dispatcher moves tasks whose time has come onto a
FIFO queue, in the order they fell due, and at most ``max_in_flight`` workers take them from
there, poll, and put them back in the heap with their next due time. Waiting on 100,000 tasks
thus costs 100,000 records of a few hundred bytes, plus a fixed handful of coroutines, instead
of 100,000 sleeping coroutines with their frames and timers (measured: about 330 MB and
deadlines overshot by the CPU work of waking them all).

Every way a task can end goes through :meth:`_Run.end`, which ignores a second ending, so a
task is reported exactly once whatever races happen (a poll answering while fail_fast, a 401,
a signal or the deadline ends the run).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections import Counter
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass

import structlog

from ._clock import Clock
from ._errors import ApiError, AuthError, BadAnswer, NotFound
from ._limits import RequestLimiter
from ._result import Outcome, TaskResult
from ._schedule import Schedule, clamp_to_deadline
from ._settings import Settings
from ._status import StatusClassifier, Verdict
from ._task_api import TaskApi, TaskStatus

__all__ = ["Engine"]

# Unreadable 200 answers in a row before a task gives up: a proxy page now and then is noise,
# five in a row means the endpoint is not the API.
MAX_BAD_ANSWERS = 5
# How long the last poll, made at the deadline, may take before it is cut.
LAST_POLL_GRACE = 0.5


@dataclass(slots=True, eq=False)
class _Task:
    """What the engine knows of one task while following it."""

    task_id: str
    polls: int = 0
    status: str | None = None
    server_id: str | None = None
    last_error: ApiError | None = None
    faults_in_a_row: int = 0
    bad_answers_in_a_row: int = 0
    not_found_since: float | None = None
    last_poll: bool = False  # the next poll is the one at the deadline
    result: TaskResult | None = None


class Engine:
    """Shared by every wait of one :class:`waiter.Waiter`: the API, limits and policies."""

    def __init__(
        self,
        api: TaskApi,
        settings: Settings,
        *,
        clock: Clock,
        rng: random.Random,
        logger: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self.api = api
        self.settings = settings
        self.clock = clock
        self.log = logger
        self.schedule = Schedule(settings.min_interval, settings.max_interval, rng)
        self.classifier = StatusClassifier(settings.success, settings.failure, settings.pending)
        self.limiter = RequestLimiter(
            max_in_flight=settings.max_in_flight, rate=settings.rate, clock=clock, logger=logger
        )
        self._runs: set[_Run] = set()

    async def run(self, task_ids: Sequence[str]) -> AsyncGenerator[TaskResult, None]:
        """Yield each task's result as it ends; the IDs must be checked and unique."""
        run = _Run(self, task_ids)
        self._runs.add(run)
        try:
            async for result in run.results():
                yield result
        finally:
            self._runs.discard(run)
            await run.close()

    def stop(self, outcome: Outcome, reason: str) -> None:
        """End every unfinished task of every run now, with ``outcome`` (say, on SIGTERM)."""
        for run in list(self._runs):
            run.end_all(outcome, reason)

    async def close(self) -> None:
        for run in list(self._runs):
            await run.close()


class _Run:
    """One call's set of tasks, its deadline, its schedule and its stream of results."""

    def __init__(self, engine: Engine, task_ids: Sequence[str]) -> None:
        self.engine = engine
        self.started = engine.clock.now()
        self.deadline = self.started + engine.settings.timeout
        self.tasks = [_Task(task_id) for task_id in task_ids]
        self.unfinished = len(self.tasks)
        self.ended: asyncio.Queue[TaskResult] = asyncio.Queue()
        # (due time, tie-breaker, task): the tie-breaker keeps equal times in arrival order.
        self._due: list[tuple[float, int, _Task]] = []
        self._order = itertools.count()
        self._ready: asyncio.Queue[_Task] = asyncio.Queue()
        self._earlier_due = asyncio.Event()
        self._helpers: list[asyncio.Task[None]] = []

    async def results(self) -> AsyncGenerator[TaskResult, None]:
        engine = self.engine
        engine.log.info("run_started", tasks=len(self.tasks), timeout_s=engine.settings.timeout)
        for task in self.tasks:
            self._ready.put_nowait(task)  # the first poll goes out at once
        workers = min(engine.settings.max_in_flight, len(self.tasks))
        self._helpers = [asyncio.create_task(self._dispatch(), name="waiter:dispatch")]
        self._helpers += [
            asyncio.create_task(self._work(), name=f"waiter:worker-{n}") for n in range(workers)
        ]
        outcomes: Counter[str] = Counter()
        for _ in self.tasks:
            result = await self.ended.get()
            outcomes[result.outcome.value] += 1
            yield result
        engine.log.info(
            "run_finished",
            tasks=len(self.tasks),
            elapsed_s=round(engine.clock.now() - self.started, 3),
            **{outcome.value: outcomes[outcome.value] for outcome in Outcome},
        )

    async def close(self) -> None:
        """Cancel the dispatcher and workers and wait for them, so nothing outlives the run."""
        for helper in self._helpers:
            helper.cancel()
        await asyncio.gather(*self._helpers, return_exceptions=True)

    # --- ending -------------------------------------------------------------------------------

    def end(
        self,
        task: _Task,
        outcome: Outcome,
        error: str | None = None,
        cause: ApiError | None = None,
    ) -> None:
        """The only way a task ends; a second ending of the same task is ignored."""
        if task.result is not None:
            return
        task.result = TaskResult(
            task_id=task.task_id,
            outcome=outcome,
            status=task.status,
            server_id=task.server_id,
            polls=task.polls,
            elapsed_s=round(self.engine.clock.now() - self.started, 3),
            error=error,
            error_code=cause.code if cause else None,
            request_id=cause.request_id if cause else None,
        )
        self.unfinished -= 1
        log = self.engine.log.info if outcome is Outcome.SUCCESS else self.engine.log.warning
        log(
            "task_ended",
            task_id=task.task_id,
            outcome=outcome.value,
            status=task.status,
            polls=task.polls,
            elapsed_s=task.result.elapsed_s,
            error=error,
        )
        self.ended.put_nowait(task.result)

    def end_all(self, outcome: Outcome, reason: str) -> None:
        for task in self.tasks:
            self.end(task, outcome, reason)

    # --- scheduling ---------------------------------------------------------------------------

    def _due_at(self, task: _Task, when: float) -> None:
        if not self._due or when < self._due[0][0]:
            self._earlier_due.set()  # the dispatcher sleeps until the old first entry
        heapq.heappush(self._due, (when, next(self._order), task))

    async def _dispatch(self) -> None:
        """Move tasks whose time has come to the workers, in the order they fell due.

        It sleeps only until the next due time, never "until the deadline": a poll cut at the
        deadline is cut by its own time-out, so an injected clock that jumps on every sleep
        does not jump past answers still in flight.
        """
        clock = self.engine.clock
        while self.unfinished:
            now = clock.now()
            while self._due and self._due[0][0] <= now:
                task = heapq.heappop(self._due)[2]
                if task.result is None:
                    self._ready.put_nowait(task)
            self._earlier_due.clear()
            if self._due:
                await self._sleep_or_wake(self._due[0][0] - now)
            else:
                await self._earlier_due.wait()

    async def _sleep_or_wake(self, seconds: float) -> None:
        """Sleep on the engine's clock, waking early when an earlier poll is scheduled."""
        sleeper = asyncio.ensure_future(self.engine.clock.sleep(seconds))
        woken = asyncio.ensure_future(self._earlier_due.wait())
        try:
            await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            woken.cancel()

    async def _work(self) -> None:
        while True:
            task = await self._ready.get()
            if task.result is not None:
                continue
            try:
                await self._poll_and_plan(task)
            except Exception as error:
                # A bug in handling one task must not take the others down, nor show a traceback.
                self.engine.log.debug("task_crashed", task_id=task.task_id, exc_info=True)
                self.end(task, Outcome.ERROR, f"internal error: {type(error).__name__}: {error}")

    # --- one poll -----------------------------------------------------------------------------

    async def _poll_and_plan(self, task: _Task) -> None:
        """Poll once, act on the answer, and schedule the next poll if the task goes on."""
        engine = self.engine
        fault = await self._poll_once(task)
        if task.result is not None:
            return
        now = engine.clock.now()
        if task.last_poll or now >= self.deadline:
            self._time_out(task)
            return
        wait = clamp_to_deadline(
            engine.schedule.wait(task.polls),
            retry_after=fault.retry_after if fault else None,
            now=now,
            deadline=self.deadline,
        )
        task.last_poll = wait.last
        if fault is not None:
            engine.log.info(
                "retry_scheduled",
                task_id=task.task_id,
                attempt=task.faults_in_a_row,
                http_status=fault.http_status,
                error_code=fault.code,
                request_id=fault.request_id,
                error=fault.message,
                wait_s=round(wait.seconds, 3),
            )
        else:
            engine.log.debug(
                "poll_scheduled", task_id=task.task_id, status=task.status, wait_s=wait.seconds
            )
        self._due_at(task, now + wait.seconds)

    async def _poll_once(self, task: _Task) -> ApiError | None:
        """Poll once and act on the answer; return the fault when it is worth a retry."""
        engine = self.engine
        cut_at = self.deadline + LAST_POLL_GRACE
        if engine.clock.now() >= cut_at:
            self._time_out(task)  # waited for a worker past the deadline: no poll after it
            return None
        try:
            # Also bounds the wait for a rate-limited slot: a task queued behind others past
            # the deadline ends as timeout here, at once.
            async with asyncio.timeout(max(cut_at - engine.clock.now(), 0.0)):
                async with engine.limiter.slot():
                    if task.result is not None:
                        return None  # ended (fail_fast, 401, signal) while waiting for a slot
                    task.polls += 1
                    sent_at = engine.clock.now()
                    answer = await engine.api.fetch(task.task_id)
        except TimeoutError:
            # Cut by the deadline, not by the per-request time-out (the client maps that).
            self._time_out(task)
            return None
        except ApiError as error:
            if error.http_status == 429:
                engine.limiter.throttled(sent_at)
            return self._on_error(task, error)
        self._on_status(task, answer)
        return None

    def _on_status(self, task: _Task, answer: TaskStatus) -> None:
        engine = self.engine
        task.faults_in_a_row = task.bad_answers_in_a_row = 0
        task.not_found_since = None
        if answer.server_id:
            task.server_id = answer.server_id
        if answer.status != task.status:
            engine.log.info(
                "status_changed",
                task_id=task.task_id,
                status=answer.status,
                previous=task.status,
                polls=task.polls,
            )
            task.status = answer.status
        verdict = engine.classifier.classify(answer.status)
        if verdict is Verdict.SUCCESS:
            self.end(task, Outcome.SUCCESS)
        elif verdict is Verdict.FAILURE:
            self.end(task, Outcome.FAILURE, f"the task ended in {answer.status}")
            if engine.settings.fail_fast:
                self.end_all(Outcome.CANCELLED, f"cancelled by fail_fast: {task.task_id} failed")
        elif verdict is Verdict.UNKNOWN:
            self.end(
                task,
                Outcome.ERROR,
                f"unknown status {answer.status!r}: if it means the task is still running, "
                f"add --pending {answer.status} (status.pending); or add it to --success "
                "or --failure",
            )

    def _on_error(self, task: _Task, error: ApiError) -> ApiError | None:
        task.last_error = error
        if isinstance(error, AuthError):
            # Every further try with refused credentials counts towards locking the key.
            self.end(task, Outcome.ERROR, str(error), error)
            self.end_all(
                Outcome.ERROR, f"not polled further: the credentials were refused ({error})"
            )
            return None
        if not error.retryable:
            self.end(task, Outcome.ERROR, str(error), error)
            return None
        now = self.engine.clock.now()
        if isinstance(error, NotFound):
            if task.not_found_since is None:
                task.not_found_since = now
            grace = self.engine.settings.not_found_grace
            if now - task.not_found_since >= grace:
                self.end(
                    task,
                    Outcome.ERROR,
                    f"{error}: task not found for {grace:g} s (poll.not_found_grace); "
                    "check the task ID and the project ID",
                    error,
                )
                return None
        if isinstance(error, BadAnswer):
            task.bad_answers_in_a_row += 1
            if task.bad_answers_in_a_row >= MAX_BAD_ANSWERS:
                self.end(
                    task, Outcome.ERROR, f"{MAX_BAD_ANSWERS} unreadable answers: {error}", error
                )
                return None
        else:
            task.bad_answers_in_a_row = 0
        task.faults_in_a_row += 1
        return error

    def _time_out(self, task: _Task) -> None:
        timeout = self.engine.settings.timeout
        if task.last_error is not None and task.faults_in_a_row:
            why = f"deadline of {timeout:g} s reached; last error: {task.last_error}"
            self.end(task, Outcome.TIMEOUT, why, task.last_error)
        else:
            why = f"deadline of {timeout:g} s reached while {task.status or 'no status yet'}"
            self.end(task, Outcome.TIMEOUT, why)
