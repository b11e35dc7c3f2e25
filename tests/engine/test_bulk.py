"""Bulk status for KPS: a few listing pages a round instead of one GET per pending task."""

from __future__ import annotations

from collections import Counter

import pytest
import structlog
from helpers import by_id, fake_kps, wait_on
from virtual_time import run_virtual

from waiter import Outcome
from waiter.testing._fake import Reply

READY, RUNNING, DONE, FAILED = "READY_RESET", "RUNNING_RESET", "SUCCESS_RESET", "FAILED_RESET"


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
    kps = fake_kps()
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
    # Rounds follow the schedule: the first wait is the minimum, then up to the doubling cap.
    waits = [e["wait_s"] for e in events if e["event"] == "round_scheduled"]
    assert waits[0] == 2
    assert all(2 <= wait <= 4 for wait in waits[1:-1])


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
