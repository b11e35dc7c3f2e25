"""Bulk rounds: the status of many tasks from a few listing pages, for APIs that list them.

With bulk status (KPS), pending tasks wait in a set instead of the due-time heap, and each
round reads the running-tasks and failed-tasks listings: a task found running stays pending,
one found failed ends (the listing gives its error: no GET), and one in neither gets one GET of
its own to learn how it ended. Those confirmations go before every other poll
(``Run.confirm``), at the whole rate.

Cadence: a round costs its pages, whatever the number of tasks, so rounds start every
``min_interval`` while that cost and the GETs queued fit in the ``rate * min_interval``
requests an interval holds, and are spaced by what they cost at the rate when not
(:func:`round_interval`). Only a failing round backs off, on the schedule of single polls
(Retry-After honoured), and the first clean round brings the cadence back.

A listing that keeps failing, or is refused for want of a permission, turns bulk status off
and the tasks go back to single GETs.

Why a task in neither listing is not settled as a success without its GET: absence from two
listings read at different moments is also what a task looks like whose failed-task record
was deleted (KPS's DeleteFailedTask, by anyone with the permission), a task not listed yet
(READY_*, or not created yet), or one missed because a listing shifted between its pages; and
absence gives no status to classify with the success and failure patterns or to report.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .._apis._base import BulkTaskApi, Listing, TaskStatus
from .._errors import ApiError, AuthError, BadAnswer
from .._result import Outcome
from ._listing import Listed, read_listing
from ._schedule import LAST_POLL_GRACE, clamp_to_deadline
from ._task import Task, why_failed

if TYPE_CHECKING:
    from ._engine import Run

__all__ = ["BULK_FROM", "MAX_BAD_LISTINGS", "ROUND", "BulkRounds", "round_interval"]

# Unreadable listing answers in a row (a proxy page, a gateway without that API) before bulk
# status is given up for single GETs, which may well work.
MAX_BAD_LISTINGS = 3
# With poll.bulk = "auto", listings replace single polls from this many pending tasks: below
# it, a few single GETs cost less than the listing pages.
BULK_FROM = 20
# Stands in the due-time heap and the ready queue for "time for the next bulk round".
ROUND = None


def round_interval(cost: int, queued: int, rate: float, min_interval: float) -> float:
    """Seconds from the start of one clean round to the start of the next.

    ``min_interval`` while the round's ``cost`` (its requests) and the ``queued`` GETs fit in
    the ``rate * min_interval`` requests an interval holds; else as long as they take at the
    rate, so that rounds never take the share the GETs need. The limiter keeps every request
    within the rate either way: this only keeps rounds from crowding the queue.
    """
    return max(min_interval, (cost + queued) / rate)


class BulkRounds:
    """The bulk rounds of one run: the tasks waiting for the next round, and the rounds' state."""

    def __init__(self, run: Run, api: BulkTaskApi | None) -> None:
        self.run = run
        self.api = api  # None: no listings (the API has none, bulk = "off", or given up)
        self.waiting: dict[Task, None] = {}  # insertion-ordered set
        self.last_round = False
        self.bad_listings = 0
        self.faults_in_a_row = 0  # rounds that failed in a row: the back-off's step

    def begin(self, tasks: list[Task]) -> None:
        """Every task waits for the first round, which goes out at once."""
        self.waiting = dict.fromkeys(tasks)
        self.run.ready.put_nowait(ROUND)

    async def guarded_round(self) -> None:
        """A bulk round whose bug ends nothing: it counts as an unreadable listing."""
        try:
            await self._round()
        except Exception as error:
            self.run.engine.log.debug("round_crashed", exc_info=True)
            fault = self._on_error(BadAnswer(f"internal error: {type(error).__name__}"))
            self._schedule_retry(fault)

    def active(self) -> bool:
        if self.api is None:
            return False
        return self.run.engine.policy.bulk == "on" or self.run.unfinished >= BULK_FROM

    async def _round(self) -> None:
        """Read the listings once, settle what they tell, and schedule the next round."""
        engine = self.run.engine
        if not self.active():
            self.leave()
            return
        started = engine.clock.now()
        if not self.waiting:
            # Every pending task is out for a GET of its own: no listing needed this time.
            self.schedule(started, cost=0)
            return
        cut_at = self.run.deadline + LAST_POLL_GRACE
        try:
            async with asyncio.timeout(max(cut_at - started, 0.0)):
                running = await self._read_listing("running")
                failed = await self._read_listing("failed")
        except TimeoutError:
            for task in self.waiting:
                self.run.time_out(task)
            return
        except ApiError as error:
            self._schedule_retry(self._on_error(error))
            return
        except Exception as error:
            # A listing the client could not make sense of (nesting too deep for the parser,
            # say) is an unreadable answer like any other.
            engine.log.debug("listing_unreadable", exc_info=True)
            self._schedule_retry(
                self._on_error(BadAnswer(f"unreadable listing: {type(error).__name__}"))
            )
            return
        self.bad_listings = self.faults_in_a_row = 0
        self._settle(running.tasks, failed.tasks)
        self.schedule(started, cost=running.requests + failed.requests)

    async def _read_listing(self, listing: Listing) -> Listed:
        assert self.api is not None
        return await read_listing(self.run.engine, self.api, listing)

    def _settle(self, running: dict[str, TaskStatus], failed: dict[str, TaskStatus]) -> None:
        waiting, self.waiting = self.waiting, {}
        confirm = []
        for task in waiting:
            if task.result is not None:
                continue
            task.polls += 1
            if task.task_id in failed:
                # A failed-task record is the failure itself, with its reason: no GET needed.
                entry = failed[task.task_id]
                self.run.note_status(task, entry)
                self.run.fail(task, why_failed(entry), entry.error_code)
            elif task.task_id in running:
                self.run.note_status(task, running[task.task_id])
                self.waiting[task] = None
            else:
                # Neither running nor failed: it succeeded, or is not listed (yet, or any
                # more): only its own GET can say (the module's docstring says why).
                confirm.append(task)
        self.run.confirm(confirm)

    def _on_error(self, error: ApiError) -> ApiError | None:
        """A listing failed: retry the round, stop everything (401), or fall back to GETs.

        Returns the fault to retry the round after, or None when there is no round to retry.
        """
        if isinstance(error, AuthError):
            self.run.end_all(Outcome.ERROR, str(error))
            return None
        if isinstance(error, BadAnswer):
            self.bad_listings += 1
            if self.bad_listings < MAX_BAD_LISTINGS:
                return error
        elif error.retryable:
            return error
        # Say, 403 for want of kps:domainKeypairs:getfailtask, or a 200 that is no listing
        # time after time: single GETs may still work.
        self.run.engine.log.warning("bulk_status_off", error=str(error))
        self.api = None
        self.leave()
        return None

    def schedule(self, started: float, *, cost: int) -> None:
        """The next round after a clean one that started at ``started`` and sent ``cost``
        requests: at the cadence the budget allows (:func:`round_interval`)."""
        if self._over():
            return
        engine, run = self.run.engine, self.run
        now = engine.clock.now()
        # What waits for a worker: confirmations and due polls, which the next round must
        # leave room for.
        queued = len(run.urgent) + run.ready.qsize()
        interval = round_interval(cost, queued, engine.limiter.rate, engine.policy.min_interval)
        wait = clamp_to_deadline(
            max(started + interval - now, 0.0), retry_after=None, now=now, deadline=run.deadline
        )
        self.last_round = wait.last
        engine.log.debug(
            "round_scheduled", pending=len(self.waiting), requests=cost, wait_s=wait.seconds
        )
        run.due_at(ROUND, now + wait.seconds)

    def _schedule_retry(self, fault: ApiError | None) -> None:
        """The next round after a failed one: the single polls' back-off, step by step."""
        if fault is None or self._over():
            return  # None: no round to retry (401 ended the run, or back to single GETs)
        run = self.run
        now = run.engine.clock.now()
        self.faults_in_a_row += 1
        wait = run.next_wait(self.faults_in_a_row, fault, now)
        self.last_round = wait.last
        run.log_retry(fault, wait, listing="bulk round")
        run.due_at(ROUND, now + wait.seconds)

    def _over(self) -> bool:
        """No round to plan: bulk status given up, every task ended, or the deadline is here."""
        if self.api is None or not self.run.unfinished:
            return True  # bulk status was given up (the tasks are back on single polls), or done
        if self.last_round or self.run.engine.clock.now() >= self.run.deadline:
            for task in self.waiting:
                self.run.time_out(task)
            return True
        return False

    def leave(self) -> None:
        """Back to single polls, due at once, for the tasks that waited for a round."""
        now = self.run.engine.clock.now()
        waiting, self.waiting = self.waiting, {}
        for task in waiting:
            if task.result is None:
                self.run.due_at(task, now)
