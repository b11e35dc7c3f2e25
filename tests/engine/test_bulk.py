"""Bulk status for KPS: a few listing pages a round instead of one GET per pending task, at
the cadence the request budget allows."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

import pytest
import structlog
from aiohttp import web
from helpers import PROJECT, TOKEN, by_id, fake_kps, wait_on
from virtual_time import run_virtual

from waiter import Outcome
from waiter._engine._bulk import round_interval
from waiter.testing._fake import FakeKps, Reply

READY, RUNNING, DONE, FAILED = "READY_RESET", "RUNNING_RESET", "SUCCESS_RESET", "FAILED_RESET"


class PagedKps(FakeKps):
    """The simulated KPS, noting when each listing read starts (a request at offset 0)."""

    def __init__(self) -> None:
        super().__init__(project_id=PROJECT, token=TOKEN)
        self.first_pages: list[tuple[str, float]] = []

    async def _list_tasks(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("offset", "0") == "0":
            self.first_pages.append((request.match_info["listing"], self._clock()))
        return await super()._list_tasks(request)


def round_starts(kps: PagedKps) -> list[float]:
    """When each round sent its first request: the running listing's first page."""
    return [at for listing, at in kps.first_pages if listing == "running"]


def gaps(times: list[float]) -> list[float]:
    return [round(later - earlier, 3) for earlier, later in itertools.pairwise(times)]


def running_tasks(count: int) -> tuple[PagedKps, list[str]]:
    kps = PagedKps()
    ids = [f"t{n:05d}" for n in range(count)]
    for task_id in ids:
        kps.add_task(task_id, [(0, RUNNING)])
    return kps, ids


def _mixed_kps(count: int):
    kps = fake_kps()
    expected = {}
    for n in range(count):
        task_id = f"task-{n:05d}"
        if n % 5 == 0:
            kps.add_task(task_id, [(0, RUNNING), (10 + n % 17, FAILED)])
            expected[task_id] = Outcome.FAILURE
        elif n % 7 == 0:
            kps.add_task(task_id, [(0, READY), (5, RUNNING), (20, DONE)])
            expected[task_id] = Outcome.SUCCESS
        else:
            kps.add_task(task_id, [(0, RUNNING), (5 + n % 31, DONE)])
            expected[task_id] = Outcome.SUCCESS
    return kps, expected


def test_bulk_rounds_settle_every_task_with_few_requests():
    kps, expected = _mixed_kps(60)

    results = run_virtual(wait_on(kps, list(expected), bulk="on"))

    assert {r.task_id: r.outcome for r in results} == expected
    failed = by_id(results)["task-00000"]
    assert failed.error == "KPS.2003: simulated failure: the server is not running"
    assert failed.error_code == "KPS.2003"
    assert failed.status == FAILED
    # Single GETs only for tasks in neither listing: the successes and READY tasks.
    single_gets = Counter(r.task_id for r in kps.requests)
    assert all(
        task_id not in single_gets for task_id, o in expected.items() if o is Outcome.FAILURE
    )
    assert len(kps.requests) < 3 * len(expected)
    assert kps.listing_requests


def test_bulk_off_never_lists():
    kps, expected = _mixed_kps(30)

    results = run_virtual(wait_on(kps, list(expected), bulk="off"))

    assert {r.task_id: r.outcome for r in results} == expected
    assert kps.listing_requests == []


@pytest.mark.parametrize(("count", "lists"), [(19, False), (20, True)])
def test_auto_switches_on_from_twenty_pending_tasks(count, lists):
    kps, expected = _mixed_kps(count)

    run_virtual(wait_on(kps, list(expected), bulk="auto"))

    assert bool(kps.listing_requests) is lists


def test_listings_are_paged_and_a_round_costs_a_few_requests():
    kps = PagedKps()
    ids = [f"t{n:05d}" for n in range(2500)]
    for task_id in ids:
        kps.add_task(task_id, [(0, RUNNING), (30, DONE)])

    with structlog.testing.capture_logs() as events:
        results = run_virtual(
            wait_on(kps, ids, bulk="on", timeout=12, min_interval=2, max_interval=4, rate=1000)
        )

    assert Counter(r.outcome for r in results) == {Outcome.TIMEOUT: 2500}
    assert kps.requests == []  # all still running: no single GETs at all
    rounds = [r for r in kps.listing_requests if r.task_id == "failed"]
    per_round = len(kps.listing_requests) / len(rounds)
    assert per_round == 3 + 1  # 3 pages of running-tasks (1000 each), 1 of failed-tasks
    # 4 requests a round fit the 2,000 a 2 s interval holds at 1,000 a second: a round starts
    # every min_interval, whatever max_interval says.
    assert gaps(round_starts(kps)) == [2.0] * 6  # 0, 2, ... 12: the last at the deadline
    assert {e["requests"] for e in events if e["event"] == "round_scheduled"} == {4}


def test_rounds_keep_to_min_interval_while_the_budget_allows():
    kps, ids = running_tasks(2500)  # 4 requests a round, 20 fit in 2 s at 10 a second

    run_virtual(wait_on(kps, ids, bulk="on", timeout=60, min_interval=2, max_interval=20, rate=10))

    # Start to start: the round's own 0.4 s of paging does not stretch the cadence. Before,
    # rounds backed off like single polls: 2, 4, 8, 16, then 2-20 s at random.
    assert gaps(round_starts(kps)) == [2.0] * 30


def test_a_round_that_costs_more_than_the_budget_is_spaced_by_its_cost():
    kps, ids = running_tasks(2500)  # 4 requests a round; at 1 a second, 2 s holds only 2

    run_virtual(wait_on(kps, ids, bulk="on", timeout=60, min_interval=2, max_interval=20, rate=1))

    assert set(gaps(round_starts(kps))) == {4.0}  # 4 requests / 1 a second
    sent = [request.at for request in kps.listing_requests]
    assert min(gaps(sent)) >= 1.0  # never above the rate


@pytest.mark.parametrize(
    ("cost", "queued", "rate", "interval"),
    [
        (6, 0, 10, 2.0),  # 5,000 tasks: 6 requests of the 20 that 2 s hold at 10 a second
        (6, 14, 10, 2.0),  # with 14 GETs queued, exactly the budget
        (6, 30, 10, 3.6),  # more queued: the round waits until they can be served
        (101, 0, 10, 10.1),  # 100,000 tasks at 10 a second: as often as the pages allow
    ],
)
def test_the_round_interval_is_min_interval_while_the_budget_allows(cost, queued, rate, interval):
    assert round_interval(cost, queued, rate, min_interval=2) == pytest.approx(interval)


def faulty_listings(reply: Reply, start: float, end: float):
    """Round starts of 100 running tasks over 80 s whose listings answer ``reply`` between
    ``start`` and ``end`` seconds, and the events."""
    kps, ids = running_tasks(100)

    async def scenario():
        loop = asyncio.get_running_loop()
        loop.call_later(start, setattr, kps, "listing_reply", reply)
        loop.call_later(end, setattr, kps, "listing_reply", None)
        return await wait_on(
            kps, ids, bulk="on", timeout=80, min_interval=2, max_interval=20, rate=10
        )

    with structlog.testing.capture_logs() as events:
        results = run_virtual(scenario())
    assert Counter(r.outcome for r in results) == {Outcome.TIMEOUT: 100}
    zero = kps.first_pages[0][1]
    # The last round is cut short to fall on the deadline: left out.
    return [at - zero for at in round_starts(kps)][:-1], events


@pytest.mark.parametrize("reply", [Reply(503, "SYS.0503"), Reply(502), Reply(reset=True)])
def test_failing_rounds_back_off_and_a_clean_round_brings_the_cadence_back(reply):
    starts, events = faulty_listings(reply, start=11, end=45)

    before = [at for at in starts if at < 11]
    during = [at for at in starts if 11 < at < 45]
    after = [at for at in starts if at > 45]
    assert set(gaps(before)) == {2.0}
    # The single polls' schedule, step by step: 2, then up to 4, 8, 16, 20 (17 rounds at 2 s).
    assert 3 <= len(during) <= 10
    assert max(gaps(during)) > 4
    retries = [e for e in events if e["event"] == "retry_scheduled"]
    assert retries[0]["wait_s"] == 2
    assert {r["listing"] for r in retries} == {"bulk round"}
    # Back to min_interval from the first clean round on.
    assert set(gaps(after)) == {2.0}
    assert len(after) >= 5


def test_a_throttled_round_waits_for_retry_after_and_slows_the_shared_rate():
    throttled = Reply(429, "APIGW.0308", headers={"Retry-After": "7"})
    starts, events = faulty_listings(throttled, start=11, end=26)

    during = [at for at in starts if 11 < at < 26]
    after = [at for at in starts if at > 26]
    assert gaps(during)
    assert min(gaps(during)) >= 7
    assert any(e["event"] == "rate_changed" and e["rate"] == 5 for e in events)
    assert set(gaps(after)) == {2.0}


def test_a_refused_listing_falls_back_to_single_gets():
    kps, expected = _mixed_kps(30)
    kps.listing_reply = Reply(
        403, "KPS.0403", "Policy doesn't allow kps:domainKeypairs:getfailtask"
    )

    results = run_virtual(wait_on(kps, list(expected), bulk="on"))

    assert {r.task_id: r.outcome for r in results} == expected
    assert len(kps.listing_requests) == 1


def test_a_transient_listing_fault_retries_the_round():
    kps, expected = _mixed_kps(30)
    kps.listing_reply = Reply(503, "SYS.0503")

    async def scenario():
        import asyncio

        loop = asyncio.get_running_loop()
        loop.call_later(6, setattr, kps, "listing_reply", None)
        return await wait_on(kps, list(expected), bulk="on")

    results = run_virtual(scenario())

    assert {r.task_id: r.outcome for r in results} == expected


def test_fail_fast_cancels_the_rest_from_a_bulk_round():
    kps = fake_kps()
    ids = [f"t{n:02d}" for n in range(25)]
    kps.add_task(ids[0], [(0, RUNNING), (3, FAILED)])
    for task_id in ids[1:]:
        kps.add_task(task_id, [(0, RUNNING)])

    results = by_id(run_virtual(wait_on(kps, ids, bulk="on", fail_fast=True)))

    assert results[ids[0]].outcome is Outcome.FAILURE
    assert {results[t].outcome for t in ids[1:]} == {Outcome.CANCELLED}
