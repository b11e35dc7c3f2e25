"""Bulk rounds: the status of many tasks from a few listing pages, for APIs that list them.

With bulk status (KPS), pending tasks wait in a set instead of the due-time heap, and one
round a schedule step reads the running-tasks and failed-tasks listings: a task found running
stays pending, one found failed ends, and one in neither gets one GET of its own to learn how
it ended. A listing that fails is retried on the schedule; one that keeps failing, or is
refused for want of a permission, turns bulk status off and the tasks go back to single GETs.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .._apis._base import BulkTaskApi, Listing, TaskStatus
from .._errors import ApiError, AuthError, BadAnswer
from .._result import Outcome
from ._listing import read_listing
from ._schedule import LAST_POLL_GRACE
from ._task import Task, why_failed

if TYPE_CHECKING:
    from ._engine import Run

__all__ = ["BULK_FROM", "MAX_BAD_LISTINGS", "ROUND", "BulkRounds"]

# Unreadable listing answers in a row (a proxy page, a gateway without that API) before bulk
# status is given up for single GETs, which may well work.
MAX_BAD_LISTINGS = 3
# With poll.bulk = "auto", listings replace single polls from this many pending tasks: below
# it, a few single GETs cost less than the listing pages.
BULK_FROM = 20
# Stands in the due-time heap and the ready queue for "time for the next bulk round".
ROUND = None


class BulkRounds:
    """The bulk rounds of one run: the tasks waiting for the next round, and the rounds' state."""

    def __init__(self, run: Run, api: BulkTaskApi | None) -> None:
        self.run = run
        self.api = api  # None: no listings (the API has none, bulk = "off", or given up)
        self.waiting: dict[Task, None] = {}  # insertion-ordered set
        self.rounds = 0
        self.last_round = False
        self.bad_listings = 0

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
            self.schedule(fault)

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
        if not self.waiting:
            # Every pending task is out for a GET of its own: no listing needed this time.
            self.schedule(None)
            return
        cut_at = self.run.deadline + LAST_POLL_GRACE
        fault: ApiError | None = None
        try:
            async with asyncio.timeout(max(cut_at - engine.clock.now(), 0.0)):
                running = await self._read_listing("running")
                failed = await self._read_listing("failed")
        except TimeoutError:
            for task in self.waiting:
                self.run.time_out(task)
            return
        except ApiError as error:
            fault = self._on_error(error)
        except Exception as error:
            # A listing the client could not make sense of (nesting too deep for the parser,
            # say) is an unreadable answer like any other.
            engine.log.debug("listing_unreadable", exc_info=True)
            fault = self._on_error(BadAnswer(f"unreadable listing: {type(error).__name__}"))
        else:
            self.bad_listings = 0
            self._settle(running, failed)
        self.schedule(fault)

    async def _read_listing(self, listing: Listing) -> dict[str, TaskStatus]:
        assert self.api is not None
        engine = self.run.engine
        return await read_listing(self.api, listing, engine.limiter, engine.gate)

    def _settle(self, running: dict[str, TaskStatus], failed: dict[str, TaskStatus]) -> None:
        waiting, self.waiting = self.waiting, {}
        for task in waiting:
            if task.result is not None:
                continue
            task.polls += 1
            if task.task_id in failed:
                entry = failed[task.task_id]
                self.run.note_status(task, entry)
                self.run.fail(task, why_failed(entry), entry.error_code)
            elif task.task_id in running:
                self.run.note_status(task, running[task.task_id])
                self.waiting[task] = None
            else:
                # Neither running nor failed: it succeeded, or is not listed yet. Ask it.
                self.run.ready.put_nowait(task)

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

    def schedule(self, fault: ApiError | None) -> None:
        engine = self.run.engine
        if self.api is None or not self.run.unfinished:
            return  # bulk status was given up (the tasks are back on single polls), or done
        now = engine.clock.now()
        if self.last_round or now >= self.run.deadline:
            for task in self.waiting:
                self.run.time_out(task)
            return
        self.rounds += 1
        wait = self.run.next_wait(self.rounds, fault, now)
        self.last_round = wait.last
        if fault is not None:
            self.run.log_retry(fault, wait, listing="bulk round")
        else:
            engine.log.debug("round_scheduled", pending=len(self.waiting), wait_s=wait.seconds)
        self.run.due_at(ROUND, now + wait.seconds)

    def leave(self) -> None:
        """Back to single polls, due at once, for the tasks that waited for a round."""
        now = self.run.engine.clock.now()
        waiting, self.waiting = self.waiting, {}
        for task in waiting:
            if task.result is None:
                self.run.due_at(task, now)
