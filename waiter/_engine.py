"""The engine: polls many tasks until each ends, and ends each exactly once.

One coroutine follows each task: poll, classify, wait, poll again. They share one
:class:`RequestLimiter` (in-flight bound and rate) and one deadline per run. Every way a task
can end goes through :meth:`_Run.end`, which ignores a second ending, so a task is reported
exactly once whatever races happen (a poll answering while fail_fast or a 401 stops the run).
"""

from __future__ import annotations

import asyncio
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


@dataclass(slots=True)
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
    worker: asyncio.Task[None] | None = None
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
            max_in_flight=settings.max_in_flight, rate=settings.rate, clock=clock
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
    """One call's set of tasks, its deadline and its stream of results."""

    def __init__(self, engine: Engine, task_ids: Sequence[str]) -> None:
        self.engine = engine
        self.started = engine.clock.now()
        self.deadline = self.started + engine.settings.timeout
        self.tasks = [_Task(task_id) for task_id in task_ids]
        self.ended: asyncio.Queue[TaskResult] = asyncio.Queue()

    async def results(self) -> AsyncGenerator[TaskResult, None]:
        log = self.engine.log
        log.info("run_started", tasks=len(self.tasks), timeout_s=self.engine.settings.timeout)
        for task in self.tasks:
            task.worker = asyncio.create_task(self._follow(task), name=f"waiter:{task.task_id}")
        outcomes: Counter[str] = Counter()
        for _ in self.tasks:
            result = await self.ended.get()
            outcomes[result.outcome.value] += 1
            yield result
        log.info(
            "run_finished",
            tasks=len(self.tasks),
            elapsed_s=round(self.engine.clock.now() - self.started, 3),
            **{outcome.value: outcomes[outcome.value] for outcome in Outcome},
        )

    async def close(self) -> None:
        """Cancel whatever still runs and wait for it, so nothing outlives the run."""
        workers = [t.worker for t in self.tasks if t.worker is not None and not t.worker.done()]
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

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
        if task.worker is not None and task.worker is not asyncio.current_task():
            task.worker.cancel()

    def end_all(self, outcome: Outcome, reason: str) -> None:
        for task in self.tasks:
            self.end(task, outcome, reason)

    # --- following one task -------------------------------------------------------------------

    async def _follow(self, task: _Task) -> None:
        try:
            await self._poll_until_end(task)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # A bug in handling one task must not take the others down, nor show a traceback.
            self.engine.log.debug("task_crashed", task_id=task.task_id, exc_info=True)
            self.end(task, Outcome.ERROR, f"internal error: {type(error).__name__}: {error}")

    async def _poll_until_end(self, task: _Task) -> None:
        engine = self.engine
        waits = engine.schedule.waits()
        last_poll = False
        while True:
            fault = await self._poll_once(task)
            if task.result is not None:
                return
            now = engine.clock.now()
            if last_poll or now >= self.deadline:
                self._time_out(task)
                return
            wait = clamp_to_deadline(
                next(waits),
                retry_after=fault.retry_after if fault else None,
                now=now,
                deadline=self.deadline,
            )
            last_poll = wait.last
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
                    "poll_scheduled",
                    task_id=task.task_id,
                    status=task.status,
                    wait_s=round(wait.seconds, 3),
                )
            await engine.clock.sleep(wait.seconds)

    async def _poll_once(self, task: _Task) -> ApiError | None:
        """Poll once and act on the answer; return the fault when it is worth a retry."""
        engine = self.engine
        cut_at = self.deadline + LAST_POLL_GRACE
        try:
            async with asyncio.timeout(max(cut_at - engine.clock.now(), 0.0)):
                async with engine.limiter.slot():
                    task.polls += 1
                    answer = await engine.api.fetch(task.task_id)
        except TimeoutError:
            # Cut by the deadline, not by the per-request time-out (the client maps that).
            self._time_out(task)
            return None
        except ApiError as error:
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
