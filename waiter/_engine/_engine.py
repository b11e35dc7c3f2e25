"""The engine: polls many tasks until each ends, and ends each exactly once.

Structure, chosen for scale: a task is a small record in a heap ordered by when its next poll
falls due, not a coroutine of its own. One dispatcher moves tasks whose time has come onto a
FIFO queue, in the order they fell due, and at most ``max_in_flight`` workers take them from
there, poll, and put them back in the heap with their next due time. Waiting on 100,000 tasks
thus costs 100,000 records of a few hundred bytes, plus a fixed handful of coroutines, instead
of 100,000 sleeping coroutines with their frames and timers (measured: about 330 MB and
deadlines overshot by the CPU work of waking them all).

With bulk status (KPS), pending tasks wait for the next listing round instead (``_bulk.py``):
a few pages for thousands of tasks.

Every way a task can end goes through :meth:`Run.end`, which ignores a second ending, so a
task is reported exactly once whatever races happen (a poll answering while fail_fast, a 401,
a signal or the deadline ends the run). It puts the result on its way before anything that can
fail: logging comes after, and is best effort.

Nothing a worker does can hold a run: each step of a worker is guarded, and the run itself is
supervised from outside the workers. A timer set for just after the deadline ends whatever is
still unfinished, and a helper that dies ends the tasks it leaves behind. So the run ends by
the deadline (plus the last poll's grace) even if a worker is stuck or dead.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import time
from collections import Counter, deque
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import NamedTuple

from .._apis._base import BulkTaskApi, TaskApi, TaskStatus
from .._config._settings import all_names
from .._errors import ApiError, AuthError, BadAnswer, NotFound
from .._event_log import EventLog, is_enabled_for
from .._redact import redact
from .._result import Outcome, TaskResult
from ._bulk import ROUND, BulkRounds
from ._clock import Clock, LoopClock
from ._gate import CredentialGate
from ._limits import RequestLimiter
from ._policy import Policy
from ._schedule import LAST_POLL_GRACE, Schedule, Wait, clamp_to_deadline
from ._status import Verdict
from ._task import Task, why_failed

__all__ = ["Engine", "PendingTask"]

# Unreadable 200 answers in a row before a task gives up: a proxy page now and then is noise,
# five in a row means the endpoint is not the API.
MAX_BAD_ANSWERS = 5
# With an injected clock, the supervisor's timer ends what is left this long after the last
# poll's grace: each poll's own time-out comes first, the timer only backs them up.
SUPERVISOR_SLACK = 0.3
# Statuses whose verdict an engine remembers: an API has a handful; a server that makes up a
# new one every poll gets the patterns matched every time, and no more memory.
VERDICTS_KEPT = 64


class PendingTask(NamedTuple):
    """An unfinished task as a display shows it: its last status (masked) and its polls."""

    task_id: str
    status: str | None
    polls: int


class Engine:
    """Shared by every wait of one :class:`waiter.Waiter`: the API, limits and policies."""

    def __init__(
        self,
        api: TaskApi,
        policy: Policy,
        *,
        clock: Clock,
        rng: random.Random,
        logger: EventLog,
    ) -> None:
        self.api = api
        self.policy = policy
        self.clock = clock
        self.log = logger
        self.schedule = Schedule(policy.min_interval, policy.max_interval, rng)
        self.classifier = policy.classifier
        self.limiter = RequestLimiter(
            max_in_flight=policy.max_in_flight, rate=policy.rate, clock=clock, logger=logger
        )
        self.gate = CredentialGate()
        # The classifier's verdicts by status: one look-up a poll instead of three patterns.
        self.verdicts: dict[str, Verdict] = {}
        self._runs: set[Run] = set()
        # Set by stop(): every run, now or later, ends at once with this outcome and reason.
        self.stopped: tuple[Outcome, str] | None = None

    async def run(
        self, task_ids: Sequence[str], *, started_at: float | None = None
    ) -> AsyncGenerator[TaskResult, None]:
        """Yield each task's result as it ends; the IDs must be checked and unique.

        The deadline counts from ``started_at`` (the clock's reading; default: now), so a
        caller can count the time it spent starting up.
        """
        run = Run(self, task_ids, started_at)
        self._runs.add(run)
        try:
            async for result in run.results():
                yield result
        finally:
            self._runs.discard(run)
            await run.close()

    def stop(self, outcome: Outcome, reason: str) -> None:
        """End every unfinished task now, with ``outcome`` (say, on SIGTERM); later runs too."""
        if self.stopped is None:
            self.stopped = (outcome, reason)
        for run in list(self._runs):
            run.end_all(outcome, reason)

    async def close(self) -> None:
        for run in list(self._runs):
            await run.close()

    def pending(self, limit: int) -> list[PendingTask]:
        """The unfinished tasks of every run, in the order given, when there are at most
        ``limit`` of them; else none (a display shows each task only while they are few).

        Read-only, for a display that looks a few times a second: nothing on the polling
        path calls it or pays for it. A look at the counts first, so that the tasks are
        scanned only when few are left.
        """
        runs = list(self._runs)
        if sum(run.unfinished for run in runs) > limit:
            return []
        return [
            PendingTask(task.task_id, task.status, task.polls)
            for run in runs
            for task in run.tasks
            if task.result is None
        ]


class ReadyQueue(deque[Task | None]):
    """The tasks due now, in the order they fell due, for the workers: asyncio.Queue's
    ``put_nowait``, ``get`` and ``qsize``, on a deque a worker may also pop at once.

    Each poll goes through it twice; asyncio.Queue spends half a dozen calls on each.
    """

    def __init__(self) -> None:
        super().__init__()
        self._getters: deque[asyncio.Future[None]] = deque()

    def qsize(self) -> int:
        return len(self)

    def put_nowait(self, item: Task | None) -> None:
        self.append(item)
        if self._getters:
            self._wake_next()

    def wake_waiting(self) -> None:
        """After items were appended: wake a waiting worker for each (as put_nowait does)."""
        for _ in range(min(len(self), len(self._getters))):
            self._wake_next()

    def _wake_next(self) -> None:
        getters = self._getters
        while getters:
            getter = getters.popleft()
            if not getter.done():
                getter.set_result(None)
                return

    async def get(self) -> Task | None:
        """The first item, once there is one (another worker may take the one it woke for)."""
        while not self:
            getter = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                # As asyncio.Queue does: a wake-up this caller cannot use goes to the next.
                getter.cancel()
                if getter in self._getters:
                    self._getters.remove(getter)
                if self and not getter.cancelled():
                    self._wake_next()
                raise
        return self.popleft()


class Run:
    """One call's set of tasks, its deadline, its schedule and its stream of results."""

    def __init__(self, engine: Engine, task_ids: Sequence[str], started_at: float | None) -> None:
        self.engine = engine
        self.started = engine.clock.now() if started_at is None else started_at
        self.deadline = self.started + engine.policy.timeout
        self.tasks = [Task(task_id) for task_id in task_ids]
        self.unfinished = len(self.tasks)
        self.ended: asyncio.Queue[TaskResult] = asyncio.Queue()
        # (due time, tie-breaker, task): the tie-breaker keeps equal times in arrival order.
        self._due: list[tuple[float, int, Task | None]] = []
        self._order = itertools.count()
        self.ready = ReadyQueue()
        # Confirmation GETs of tasks that left the running listing: workers take these before
        # the ready queue (Run.confirm). ``idle``: workers waiting on the ready queue.
        self.urgent: deque[Task] = deque()
        self.idle = 0
        # The dispatcher, while it sleeps until the first due time (or, with none, until
        # woken): due_at wakes it for an earlier one by cancelling that sleep (_wake).
        self._dispatcher: asyncio.Task[None] | None = None
        self._sleeping = self._woken = False
        self._helpers: list[asyncio.Task[None]] = []
        # Every poll is cut at the deadline plus the last poll's grace. When the engine keeps
        # the loop's time, the supervisor's timer makes that cut, at that moment, for every
        # poll still out: one timer a run instead of one set and cancelled on every poll.
        # An injected clock's deadline is not a moment of the loop's clock: each poll is cut
        # by a time-out of its own then (_poll_cut).
        self._supervisor_cuts = type(engine.clock) is LoopClock
        # The engine's clock as the poll path reads it: the loop's own time() when it is the
        # loop's clock (set once the loop runs), which saves LoopClock finding the loop.
        self._now: Callable[[], float] = engine.clock.now
        # Whether poll_scheduled events would be written: asked once a run, not built per poll.
        self._debug = True
        api = engine.api
        self.bulk = BulkRounds(
            self, api if isinstance(api, BulkTaskApi) and engine.policy.bulk != "off" else None
        )
        self._supervisor: asyncio.TimerHandle | None = None

    async def results(self) -> AsyncGenerator[TaskResult, None]:
        engine = self.engine
        self._debug = is_enabled_for(engine.log, logging.DEBUG)
        engine.log.info("run_started", tasks=len(self.tasks), timeout_s=engine.policy.timeout)
        if engine.stopped is not None:
            self.end_all(*engine.stopped)
        self._start_helpers()
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

    def _start_helpers(self) -> None:
        """The dispatcher and workers, and the supervision that outlives any of them."""
        if not self.unfinished:
            return
        engine = self.engine
        if self._supervisor_cuts:
            loop = asyncio.get_running_loop()
            # asyncio's own loops read time.monotonic() in time(): read directly, it is one
            # call less a reading (uvloop's time() is C already; a loop that keeps a time of
            # its own, such as a test's, is asked).
            monotonic = type(loop).time is asyncio.BaseEventLoop.time
            self._now = time.monotonic if monotonic else loop.time
        if self.bulk.active():
            self.bulk.begin(self.tasks)
        else:
            for task in self.tasks:
                self.ready.put_nowait(task)  # the first poll goes out at once
        workers = min(engine.policy.max_in_flight, len(self.tasks))
        self._dispatcher = asyncio.create_task(self._dispatch(), name="waiter:dispatch")
        self._helpers = [self._dispatcher]
        self._helpers += [
            asyncio.create_task(self._work(), name=f"waiter:worker-{n}") for n in range(workers)
        ]
        for helper in self._helpers:
            helper.add_done_callback(self._helper_ended)
        # On the event loop's own clock, which no worker can hold up: the engine's clock may be
        # a test's, and a timer on it would need a coroutine to keep time.
        left = max(self.deadline - engine.clock.now(), 0.0)
        slack = 0.0 if self._supervisor_cuts else SUPERVISOR_SLACK
        self._supervisor = asyncio.get_running_loop().call_later(
            left + LAST_POLL_GRACE + slack, self._deadline_passed
        )

    def _deadline_passed(self) -> None:
        for task in self.tasks:
            if task.result is None:
                self.time_out(task)

    def _helper_ended(self, helper: asyncio.Task[None]) -> None:
        """A dispatcher or worker ended while tasks were left: they would wait forever."""
        if helper.cancelled() or not self.unfinished:
            return
        error = helper.exception()
        why = f"{type(error).__name__}: {error}" if error else "it returned early"
        self.engine.log.error("helper_crashed", helper=helper.get_name(), error=why)
        self.end_all(Outcome.ERROR, f"internal error: {helper.get_name()} ended ({why})")

    async def close(self) -> None:
        """Cancel the dispatcher and workers and wait for them, so nothing outlives the run."""
        if self._supervisor is not None:
            self._supervisor.cancel()
        for helper in self._helpers:
            helper.remove_done_callback(self._helper_ended)
            helper.cancel()
        # Bounded: a helper that ignores cancellation must not hold the caller either.
        if self._helpers:
            await asyncio.wait(self._helpers, timeout=1.0)

    # --- ending -------------------------------------------------------------------------------

    def end(
        self,
        task: Task,
        outcome: Outcome,
        error: str | None = None,
        cause: ApiError | None = None,
        *,
        error_code: str | None = None,
    ) -> None:
        """The only way a task ends; a second ending of the same task is ignored.

        The result is queued first, so that nothing after it (logging) can lose it.
        """
        if task.result is not None:
            return
        # Server text is masked where it becomes a result: a server that echoes our headers
        # back must not put a secret into stdout, a report or an application's own logs.
        result = task.result = TaskResult(
            task_id=task.task_id,
            outcome=outcome,
            status=task.status,  # masked when noted
            server_id=task.server_id,
            polls=task.polls,
            elapsed_s=round(self.engine.clock.now() - self.started, 3),
            error=redact(error) if error else None,
            error_code=cause.code if cause else error_code,
            request_id=cause.request_id if cause else None,
        )
        self.unfinished -= 1
        self.ended.put_nowait(result)
        log = self.engine.log.info if outcome is Outcome.SUCCESS else self.engine.log.warning
        log(
            "task_ended",
            task_id=task.task_id,
            outcome=outcome.value,
            status=result.status,
            polls=task.polls,
            elapsed_s=result.elapsed_s,
            error=result.error,
        )

    def end_all(self, outcome: Outcome, reason: str) -> None:
        for task in self.tasks:
            self.end(task, outcome, reason)

    # --- scheduling ---------------------------------------------------------------------------

    def due_at(self, task: Task | None, when: float) -> None:
        due = self._due
        if self._sleeping and (not due or when < due[0][0]):
            self._wake()  # the dispatcher sleeps until the old first entry, or for ever
        heapq.heappush(due, (when, next(self._order), task))

    async def _dispatch(self) -> None:
        """Move tasks whose time has come to the workers, in the order they fell due.

        It sleeps only until the next due time, never "until the deadline": with an injected
        clock a poll is cut at the deadline by its own time-out, so a clock that jumps on
        every sleep does not jump past answers still in flight.
        """
        now_is, due, ready = self._now, self._due, self.ready
        while self.unfinished:
            now = now_is()
            while due and due[0][0] <= now:
                task = heapq.heappop(due)[2]
                if task is ROUND or task.result is None:
                    ready.append(task)
            ready.wake_waiting()  # once for all it moved: put_nowait() a task costs a call
            await self._sleep_or_wake(due[0][0] - now if due else None)

    async def _sleep_or_wake(self, seconds: float | None) -> None:
        """Sleep on the engine's clock (None: until woken), waking early when due_at
        schedules an earlier poll.

        It is woken by cancelling the sleep (_wake), the one wait it is in, rather than by
        racing the sleep against an Event: that took two tasks and asyncio.wait() a sleep,
        and with polls a millisecond apart the dispatcher sleeps between most of them.
        """
        self._sleeping = True
        try:
            if seconds is None:
                await asyncio.get_running_loop().create_future()  # only _wake ends it
            else:
                await self.engine.clock.sleep(seconds)
        except asyncio.CancelledError:
            me = asyncio.current_task()
            # Woken, and by nothing else: closing the run cancels the dispatcher too.
            if not self._woken or me is None or me.uncancel() > 0:
                raise
        finally:
            self._sleeping = self._woken = False

    def _wake(self) -> None:
        if not self._woken and self._dispatcher is not None:
            self._woken = True
            self._dispatcher.cancel()

    def confirm(self, tasks: list[Task]) -> None:
        """GETs to go before every other poll, at the whole rate: tasks a bulk round did not
        find running. Idle workers get one each through the ready queue, which wakes them
        (nothing waits ahead of it there while a worker is idle); the rest wait in ``urgent``."""
        for task in tasks:
            if self.ready.qsize() < self.idle:
                self.ready.put_nowait(task)
            else:
                self.urgent.append(task)

    async def _work(self) -> None:
        ready, urgent = self.ready, self.urgent
        while True:
            if urgent:
                task: Task | None = urgent.popleft()
            elif ready:
                task = ready.popleft()
            else:
                self.idle += 1
                task = await ready.get()
                self.idle -= 1
            if task is ROUND:
                await self.bulk.guarded_round()
            elif task.result is None:
                try:
                    await (self._poll(task) if self._supervisor_cuts else self._poll_cut(task))
                except Exception as error:
                    # A bug in handling one task must not take the others down, nor show a
                    # traceback.
                    self.engine.log.debug("task_crashed", task_id=task.task_id, exc_info=True)
                    self.error(task, f"internal error: {type(error).__name__}: {error}")

    # --- one poll -----------------------------------------------------------------------------

    async def _poll_cut(self, task: Task) -> None:
        """:meth:`_poll`, cut at the deadline (plus the last poll's grace) by a time-out of
        its own: with an injected clock, whose deadline the supervisor's timer does not keep.

        Also bounds the wait for a rate-limited slot: a task queued behind others past the
        deadline ends as timeout here, at once (as the supervisor ends it, when it cuts).
        """
        left = self.deadline + LAST_POLL_GRACE - self._now()
        try:
            async with asyncio.timeout(max(left, 0.0)):
                await self._poll(task)
        except TimeoutError:
            self.time_out(task)

    async def _poll(self, task: Task) -> None:
        """Poll once, act on the answer, and schedule the next poll if the task goes on.

        One coroutine from the worker to the API client, on purpose: every call here is
        paid on every poll.
        """
        engine = self.engine
        now = self._now()
        if now >= self.deadline + LAST_POLL_GRACE:
            self.time_out(task)  # waited for a worker past the deadline: no poll after it
            return
        limiter = engine.limiter
        try:
            taken = limiter.take(now)
            sent_at = await limiter.acquire(now) if taken is None else taken
            try:
                if task.result is not None:
                    return  # ended (fail_fast, 401, signal, deadline) while it waited
                task.polls += 1
                if engine.gate.open:
                    answer = await engine.api.fetch(task.task_id)
                else:
                    answer = await engine.gate.through(lambda: engine.api.fetch(task.task_id))
            finally:
                limiter.release()
        except TimeoutError:
            # Cut by the deadline, not by the per-request time-out (the client maps that).
            self.time_out(task)
            return
        # A fault is handed on, never kept in a local: the traceback it carries holds this
        # frame, and a frame that held it would keep both, and the answer read, for the
        # garbage collector (a refused bomb's megabytes, say) instead of freeing them at once.
        except ApiError as error:
            if error.http_status == 429:
                limiter.throttled(sent_at)
            self._plan_next(task, self._on_error(task, error))
            return
        except Exception as error:
            # The client could not make sense of the answer (a parser's limit, say): it is an
            # unreadable answer, retried as the rules say, not the end of the task.
            engine.log.debug("answer_unreadable", task_id=task.task_id, exc_info=True)
            self._plan_next(
                task, self._on_error(task, BadAnswer(f"unreadable answer: {type(error).__name__}"))
            )
            return
        if task.result is not None:
            return  # ended while the answer was on its way: cut at the deadline, say
        self.note_status(task, answer)
        verdicts = engine.verdicts
        verdict = verdicts.get(answer.status)
        if verdict is None:
            verdict = engine.classifier.classify(answer.status)
            if len(verdicts) < VERDICTS_KEPT:
                verdicts[answer.status] = verdict
        if verdict is Verdict.PENDING:
            self._plan_next(task, None)
        else:
            self._on_end(task, answer, verdict)

    def _plan_next(self, task: Task, fault: ApiError | None) -> None:
        """After a poll: the next one, at the deadline at the latest, unless the task ended."""
        if task.result is not None:
            return
        now = self._now()
        if task.last_poll or now >= self.deadline:
            self.time_out(task)
            return
        bulk = self.bulk
        if fault is None and bulk.api is not None and bulk.active():
            bulk.waiting[task] = None  # the next round will look at it
            return
        wait = self.next_wait(task.polls, fault, now)
        task.last_poll = wait.last
        if fault is not None:
            self.log_retry(fault, wait, task_id=task.task_id, attempt=task.faults_in_a_row)
        elif self._debug:
            self.engine.log.debug(
                "poll_scheduled", task_id=task.task_id, status=task.status, wait_s=wait.seconds
            )
        self.due_at(task, now + wait.seconds)

    def next_wait(self, polls: int, fault: ApiError | None, now: float) -> Wait:
        """The schedule's wait after ``polls`` polls (or rounds), Retry-After, deadline."""
        return clamp_to_deadline(
            self.engine.schedule.wait(polls),
            retry_after=fault.retry_after if fault else None,
            now=now,
            deadline=self.deadline,
        )

    def log_retry(self, fault: ApiError, wait: Wait, **about: object) -> None:
        self.engine.log.info(
            "retry_scheduled",
            **about,
            http_status=fault.http_status,
            error_code=fault.code,
            request_id=fault.request_id,
            error=fault.message,
            wait_s=round(wait.seconds, 3),
        )

    def note_status(self, task: Task, answer: TaskStatus) -> None:
        task.faults_in_a_row = task.bad_answers_in_a_row = 0
        task.not_found_since = None
        # Kept as shown (masked); the classifier reads the answer's own status. The same text
        # as last time is shown as it was without a second look: the redactor passed it then,
        # and a secret it learns later (refreshed keys) is new text no answer has shown yet.
        server_id = answer.server_id
        if server_id and server_id != task.server_id:
            task.server_id = redact(server_id)
        status = answer.status
        if status == task.status:
            return
        status = redact(status)
        if status != task.status:
            self.engine.log.info(
                "status_changed",
                task_id=task.task_id,
                status=status,
                previous=task.status,
                polls=task.polls,
            )
            task.status = status

    def fail(self, task: Task, error: str, error_code: str | None = None) -> None:
        self.end(task, Outcome.FAILURE, error, error_code=error_code)
        if self.engine.policy.fail_fast:
            self.end_all(Outcome.CANCELLED, f"cancelled by fail_fast: {task.task_id} failed")

    def error(self, task: Task, error: str, cause: ApiError | None = None) -> None:
        """End one task in error, for its own reasons (a 401, which ends them all, is not)."""
        self.end(task, Outcome.ERROR, error, cause)
        if self.engine.policy.fail_fast_errors:
            self.end_all(
                Outcome.CANCELLED, f"cancelled by fail_fast_errors: {task.task_id} ended in error"
            )

    def _on_end(self, task: Task, answer: TaskStatus, verdict: Verdict) -> None:
        """An answer whose status is not a pending one: the task ends, as its verdict says."""
        if verdict is Verdict.SUCCESS:
            self.end(task, Outcome.SUCCESS)
        elif verdict is Verdict.FAILURE:
            self.fail(task, why_failed(answer), answer.error_code)
        elif verdict is Verdict.UNKNOWN:
            self.error(
                task,
                f"unknown status {answer.status!r}: if it means the task is still running, "
                f"add it to {all_names('pending')}; or to {all_names('success')} or "
                f"{all_names('failure')}",
            )

    def _on_error(self, task: Task, error: ApiError) -> ApiError | None:
        task.last_error = error
        if isinstance(error, AuthError):
            # Every further try with refused credentials counts towards locking the key.
            self.end(task, Outcome.ERROR, str(error), error)
            self.end_all(
                Outcome.ERROR, f"not polled further: the credentials were refused ({error})"
            )
            return None
        if not error.retryable:
            self.error(task, str(error), error)
            return None
        now = self.engine.clock.now()
        if isinstance(error, NotFound):
            if task.not_found_since is None:
                task.not_found_since = now
            grace = self.engine.policy.not_found_grace
            if now - task.not_found_since >= grace:
                self.error(
                    task,
                    f"{error}: task not found for {grace:g} s, the grace "
                    f"{all_names('not_found_grace')}; check the task ID and the project ID",
                    error,
                )
                return None
        if isinstance(error, BadAnswer):
            task.bad_answers_in_a_row += 1
            if task.bad_answers_in_a_row >= MAX_BAD_ANSWERS:
                self.error(task, f"{MAX_BAD_ANSWERS} unreadable answers: {error}", error)
                return None
        else:
            task.bad_answers_in_a_row = 0
        task.faults_in_a_row += 1
        return error

    def time_out(self, task: Task) -> None:
        timeout = self.engine.policy.timeout
        if task.last_error is not None and task.faults_in_a_row:
            why = f"deadline of {timeout:g} s reached; last error: {task.last_error}"
            self.end(task, Outcome.TIMEOUT, why, task.last_error)
        else:
            why = f"deadline of {timeout:g} s reached while {task.status or 'no status yet'}"
            self.end(task, Outcome.TIMEOUT, why)
