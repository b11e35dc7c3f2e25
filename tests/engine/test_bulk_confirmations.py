"""Bulk rounds: tasks that leave the running listing are confirmed by GETs that go before every
other poll, at the whole rate; a task on the failed listing needs none; and no success is ever
taken from the listings alone, however they shift, lose records or lag behind.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from aiohttp import web
from helpers import PROJECT, TOKEN, by_id, fake_kps, wait_on
from virtual_time import run_virtual

from waiter import Outcome
from waiter.testing._fake import FakeKps, Reply

READY, RUNNING, DONE, FAILED = "READY_RESET", "RUNNING_RESET", "SUCCESS_RESET", "FAILED_RESET"


def test_tasks_ending_together_are_confirmed_at_the_whole_rate():
    kps = fake_kps()
    ids = [f"t{n:03d}" for n in range(300)]
    for task_id in ids:
        kps.add_task(task_id, [(0, RUNNING), (5, DONE)])

    results = run_virtual(wait_on(kps, ids, bulk="on", min_interval=2, rate=20, timeout=60))

    assert {r.outcome for r in results} == {Outcome.SUCCESS}
    gets = [request.at for request in kps.requests]
    assert len(gets) == 300  # one confirmation each, nothing more
    # The round at 6 s finds them gone; 300 GETs at 20 a second take 15 s, no more.
    zero = kps.listing_requests[0].at
    assert 6 <= gets[0] - zero < 6.5
    assert gets[-1] - gets[0] <= 300 / 20
    assert max(r.elapsed_s for r in results) <= 6.5 + 300 / 20
    # No round while they drain: every task is out for its GET.
    assert [r for r in kps.listing_requests if gets[0] < r.at < gets[-1]] == []


def test_tasks_failing_together_are_settled_from_the_failed_listing_without_a_get():
    kps = fake_kps()
    ids = [f"t{n:04d}" for n in range(2500)]
    for task_id in ids:
        kps.add_task(task_id, [(0, RUNNING), (5, FAILED)])

    results = run_virtual(wait_on(kps, ids, bulk="on", min_interval=2, rate=10, timeout=60))

    assert {r.outcome for r in results} == {Outcome.FAILURE}
    assert {r.error_code for r in results} == {"KPS.2003"}
    assert kps.requests == []  # the failed-task records said it all
    assert max(r.elapsed_s for r in results) < 7


def test_confirmations_go_before_pending_single_polls():
    kps = fake_kps()
    # Ten tasks answer 503 to every GET (and are on no listing): single polls due every second,
    # five times what a rate of 2 serves, so a queue of them is always waiting.
    flaky = [f"flaky-{n}" for n in range(10)]
    for task_id in flaky:
        kps.add_task(task_id, [(0, Reply(503, "SYS.0503"))])
    ending = [f"ending-{n:02d}" for n in range(20)]
    for task_id in ending:
        kps.add_task(task_id, [(0, RUNNING), (10, DONE)])

    results = by_id(
        run_virtual(
            wait_on(
                kps, flaky + ending, bulk="on", rate=2, min_interval=1, max_interval=1,
                max_in_flight=2, timeout=40,
            )
        )
    )  # fmt: skip

    assert {results[t].outcome for t in ending} == {Outcome.SUCCESS}
    # From the round that found them gone to the last of their GETs, the 20 confirmations go
    # out one after another: at most one flaky poll, the one the other worker already had on
    # its way, comes among them. Before, they queued behind every flaky poll then due.
    sent = sorted(kps.requests + kps.listing_requests, key=lambda request: request.at)
    kinds = [request.task_id.split("-")[0] for request in sent]
    first = kinds.index("ending")
    found = max(n for n in range(first) if kinds[n] == "failed")
    last = len(kinds) - 1 - kinds[::-1].index("ending")
    among = Counter(kinds[found + 1 : last + 1])
    assert among["ending"] == 20
    assert among["flaky"] <= 1


class ShiftingKps(FakeKps):
    """After the first page of the running listing in the round after ``at`` seconds, the
    first ``shift`` tasks end: every task after them moves one place up, so the second page
    starts ``shift`` tasks later, and those it skipped are on neither page of that round."""

    def __init__(self, at: float, shift: int) -> None:
        super().__init__(project_id=PROJECT, token=TOKEN)
        self.at, self.shift = at, shift
        self.shifted: float | None = None

    async def _list_tasks(self, request: web.Request) -> web.StreamResponse:
        answer = await super()._list_tasks(request)
        first_page = (
            request.query.get("offset") == "0" and request.match_info["listing"] == "running"
        )
        started = self._serving_since or 0.0
        if first_page and self.shifted is None and self._clock() - started >= self.at:
            self.shifted = self._clock()
            for n in range(self.shift):
                self.add_task(f"t{n:05d}", [(0, DONE)])
        return answer


def test_a_task_missed_because_the_listing_shifted_between_pages_is_asked_not_ended():
    kps = ShiftingKps(at=5, shift=10)
    ids = [f"t{n:05d}" for n in range(2000)]  # two pages of 1000
    for task_id in ids:
        kps.add_task(task_id, [(0, RUNNING)])

    results = by_id(run_virtual(wait_on(kps, ids, bulk="on", min_interval=2, rate=100, timeout=20)))

    assert kps.shifted is not None
    ended, skipped = ids[:10], ids[1000:1010]  # skipped: shifted onto page 1 after it was read
    assert {results[t].outcome for t in ended} == {Outcome.SUCCESS}
    # On neither page of that round: a GET each, which said RUNNING; still running at the end.
    assert Counter(r.task_id for r in kps.requests if r.task_id in skipped) == dict.fromkeys(
        skipped, 1
    )
    assert {results[t].outcome for t in skipped} == {Outcome.TIMEOUT}
    assert {results[t].status for t in skipped} == {RUNNING}
    assert Counter(r.outcome for r in results.values()) == {
        Outcome.SUCCESS: 10,
        Outcome.TIMEOUT: 1990,
    }


def test_absence_from_both_listings_is_never_taken_for_success():
    kps = fake_kps()
    filler = [f"filler-{n:02d}" for n in range(20)]  # enough tasks for bulk rounds
    for task_id in filler:
        kps.add_task(task_id, [(0, RUNNING), (30, DONE)])
    kps.add_task("deleted", [(0, RUNNING), (3, FAILED)])  # its failed record deleted at once
    kps.add_task("ready", [(0, READY), (12, RUNNING), (20, DONE)])  # on no listing while READY
    kps.add_task("late", [(6, RUNNING), (15, DONE)])  # does not exist for 6 s
    kps.add_task("unknown", [(0, RUNNING), (4, "ROLLED_BACK")])  # on no listing, no pattern

    async def scenario():
        loop = asyncio.get_running_loop()
        loop.call_later(3, kps.delete_failed_task, "deleted")
        return await wait_on(
            kps, [*filler, "deleted", "ready", "late", "unknown"], bulk="on", min_interval=1,
            max_interval=4, timeout=60,
        )  # fmt: skip

    results = by_id(run_virtual(scenario()))

    assert results["deleted"].outcome is Outcome.FAILURE
    assert results["deleted"].status == FAILED
    assert results["ready"].outcome is Outcome.SUCCESS
    assert results["ready"].elapsed_s >= 20
    assert results["late"].outcome is Outcome.SUCCESS
    assert results["late"].elapsed_s >= 15
    assert results["unknown"].outcome is Outcome.ERROR
    assert "ROLLED_BACK" in (results["unknown"].error or "")
    assert {results[t].outcome for t in filler} == {Outcome.SUCCESS}
