"""The engine against the simulated KPS on 127.0.0.1, on a loop that skips idle time."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest
from helpers import PROJECT, TOKEN, by_id, fake_kps, settings_for, wait_on
from virtual_time import run_virtual

from waiter import Outcome, Waiter
from waiter.testing._fake import FakeKps, Reply

READY, RUNNING, DONE, FAILED = "READY_RESET", "RUNNING_RESET", "SUCCESS_RESET", "FAILED_RESET"


def test_a_task_that_succeeds_ends_as_success_with_its_server():
    kps = fake_kps()
    kps.add_task("t1", [(0, READY), (5, RUNNING), (20, DONE)], server_id="srv-1")

    [result] = run_virtual(wait_on(kps, ["t1"]))

    assert result.outcome is Outcome.SUCCESS
    assert result.status == DONE
    assert result.server_id == "srv-1"
    assert result.error is None
    assert 20 <= result.elapsed_s <= 20 + 8  # ends at the first poll after it finished


def test_a_failed_task_ends_as_failure_naming_the_status():
    kps = fake_kps()
    kps.add_task("t1", [(0, RUNNING), (3, FAILED)])

    [result] = run_virtual(wait_on(kps, ["t1"]))

    assert result.outcome is Outcome.FAILURE
    assert result.status == FAILED


def test_many_tasks_end_independently_and_results_keep_input_order():
    kps = fake_kps()
    kps.add_task("slow", [(0, RUNNING), (40, DONE)])
    kps.add_task("fails", [(0, RUNNING), (2, FAILED)])
    kps.add_task("fast", [(0, DONE)])

    results = run_virtual(wait_on(kps, ["slow", "fails", "fast"]))

    assert [r.task_id for r in results] == ["slow", "fails", "fast"]
    assert [r.outcome for r in results] == [Outcome.SUCCESS, Outcome.FAILURE, Outcome.SUCCESS]
    assert by_id(results)["fast"].polls == 1


def test_first_poll_is_immediate_and_waits_follow_the_schedule():
    kps = fake_kps()
    kps.add_task("t1", [(0, RUNNING), (100, DONE)])

    run_virtual(wait_on(kps, ["t1"], min_interval=2, max_interval=10))

    times = [r.at for r in kps.requests_for("t1")]
    start = times[0]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] == pytest.approx(2, abs=0.05)  # first wait is exactly min_interval
    caps = [2, 4, 8, 10, 10, 10]
    for n, gap in enumerate(gaps[1:], start=1):
        cap = caps[min(n, len(caps) - 1)]
        assert 2 - 0.05 <= gap <= cap + 0.05
    assert times[-1] - start >= 100


def test_a_task_still_pending_at_the_deadline_times_out_on_time():
    kps = fake_kps()
    kps.add_task("t1", [(0, RUNNING)])

    async def scenario() -> tuple[float, list]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        results = await wait_on(kps, ["t1"], timeout=30, min_interval=4, max_interval=16)
        return loop.time() - started, results

    took, [result] = run_virtual(scenario())

    assert result.outcome is Outcome.TIMEOUT
    assert result.status == RUNNING
    assert "deadline of 30 s" in (result.error or "")
    # One last poll is made at the deadline itself, and the wait ends right after it.
    assert kps.requests_for("t1")[-1].at - kps.requests_for("t1")[0].at == pytest.approx(
        30, abs=0.1
    )
    assert 30 <= took < 31


def test_an_unknown_status_is_an_error_that_says_how_to_accept_it():
    kps = fake_kps()
    kps.add_task("t1", [(0, "PAUSED_RESET")])

    [result] = run_virtual(wait_on(kps, ["t1"]))

    assert result.outcome is Outcome.ERROR
    # A result, read in code and on the command line alike: each setting by every name.
    assert result.error == (
        "unknown status 'PAUSED_RESET': if it means the task is still running, add it to "
        "pending (--pending, status.pending); or to success (--success, status.success) or "
        "failure (--failure, status.failure)"
    )


def test_custom_patterns_decide_the_outcome():
    kps = fake_kps()
    kps.add_task("t1", [(0, "PAUSED_RESET"), (3, "DONE_RESET")])

    [result] = run_virtual(wait_on(kps, ["t1"], pending=("PAUSED_*",), success=("DONE_*",)))

    assert result.outcome is Outcome.SUCCESS


def test_a_refused_token_ends_every_task_at_once_without_more_requests():
    kps = fake_kps()
    for name in ("a", "b", "c"):
        kps.add_task(name, [(0, RUNNING)])

    async def scenario():
        async with kps.serve() as url:
            return await __import__("waiter").wait_for(
                ["a", "b", "c"], settings_for(url, token="wrong-token", max_in_flight=1)
            )

    results = run_virtual(scenario())

    assert {r.outcome for r in results} == {Outcome.ERROR}
    assert len(kps.requests) == 1  # the first 401 stops everything: no retries lock the key
    first = by_id(results)["a"]
    assert "APIGW.0301" in (first.error or "")
    assert "fake-" in (first.error or "")  # the request ID is kept for support


def test_not_found_is_retried_for_the_grace_period_then_found():
    kps = fake_kps()
    kps.add_task("late", [(10, RUNNING), (15, DONE)])  # does not exist for 10 s

    [result] = run_virtual(wait_on(kps, ["late"], not_found_grace=30))

    assert result.outcome is Outcome.SUCCESS


def test_not_found_after_the_grace_period_is_an_error():
    kps = fake_kps()

    [result] = run_virtual(wait_on(kps, ["ghost"], not_found_grace=20))

    assert result.outcome is Outcome.ERROR
    assert "KPS.0001" in (result.error or "")
    assert (
        "not found for 20 s, the grace not_found_grace (--not-found-grace, poll.not_found_grace)"
    ) in (result.error or "")
    last = kps.requests_for("ghost")[-1].at - kps.requests_for("ghost")[0].at
    assert 20 <= last <= 20 + 8


def test_fail_fast_cancels_the_rest():
    kps = fake_kps()
    kps.add_task("fails", [(0, RUNNING), (2, FAILED)])
    kps.add_task("slow", [(0, RUNNING), (500, DONE)])

    results = by_id(run_virtual(wait_on(kps, ["fails", "slow"], fail_fast=True)))

    assert results["fails"].outcome is Outcome.FAILURE
    assert results["slow"].outcome is Outcome.CANCELLED
    assert "fails" in (results["slow"].error or "")


def test_transient_faults_are_retried_and_retry_after_is_honoured():
    kps = fake_kps()
    kps.add_task(
        "t1",
        [(0, RUNNING), (1, DONE)],
        replies={
            1: Reply(503, "SYS.0503"),
            2: Reply(429, "APIGW.0308", headers={"Retry-After": "7"}),
        },
    )

    [result] = run_virtual(wait_on(kps, ["t1"], min_interval=1, max_interval=2))

    assert result.outcome is Outcome.SUCCESS
    times = [r.at for r in kps.requests_for("t1")]
    assert times[2] - times[1] == pytest.approx(7, abs=0.05)  # never sooner than asked


def test_five_unreadable_answers_in_a_row_end_the_task_quoting_the_body():
    kps = fake_kps()
    html = Reply(200, body=b"<html>proxy login</html>")
    kps.add_task("t1", [(0, html)])

    [result] = run_virtual(wait_on(kps, ["t1"]))

    assert result.outcome is Outcome.ERROR
    assert "<html>proxy login</html>" in (result.error or "")
    assert result.polls == 5


def test_in_flight_requests_are_bounded():
    kps = fake_kps()
    for n in range(40):
        kps.add_task(f"t{n}", [(0, RUNNING), (10, DONE)])
    peak = 0
    in_flight = 0
    app_get = kps._get_task

    async def counting(request):
        nonlocal peak, in_flight
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.01)
            return await app_get(request)
        finally:
            in_flight -= 1

    kps._get_task = counting  # type: ignore[method-assign]
    results = run_virtual(wait_on(kps, [f"t{n}" for n in range(40)], max_in_flight=4, bulk="off"))

    assert {r.outcome for r in results} == {Outcome.SUCCESS}
    assert 1 < peak <= 4


def test_the_rate_is_never_exceeded():
    kps = fake_kps()
    for n in range(30):
        kps.add_task(f"t{n}", [(0, RUNNING), (5, DONE)])

    run_virtual(wait_on(kps, [f"t{n}" for n in range(30)], rate=5, bulk="off"))

    times = sorted(r.at for r in kps.requests)
    for i, start in enumerate(times):
        in_one_second = [t for t in times[i:] if t < start + 1.0]
        assert len(in_one_second) <= 5 + 1


def test_cancelling_the_caller_cancels_polls_and_leaves_nothing_running():
    kps = fake_kps()
    kps.add_task("t1", [(0, RUNNING)])

    async def scenario() -> set[asyncio.Task]:
        async with kps.serve() as url:
            waiter = Waiter(settings_for(url))
            caller = asyncio.create_task(_wait_one(waiter))
            await asyncio.sleep(5)  # a few polls in
            caller.cancel()
            with pytest.raises(asyncio.CancelledError):
                await caller
            assert waiter._session is None  # closed on the way out
        return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    async def _wait_one(waiter: Waiter) -> None:
        async with waiter:
            await waiter.wait("t1")

    assert run_virtual(scenario()) == set()


def test_leaving_as_completed_early_stops_the_other_polls():
    kps = fake_kps()
    kps.add_task("quick", [(0, DONE)])
    kps.add_task("never", [(0, RUNNING)])

    async def scenario() -> int:
        async with kps.serve() as url, Waiter(settings_for(url)) as waiter:
            async for result in waiter.as_completed(["quick", "never"]):
                assert result.task_id == "quick"
                break
            await asyncio.sleep(0.5)  # a request already in flight may still land
            seen = len(kps.requests_for("never"))
            await asyncio.sleep(60)
            return len(kps.requests_for("never")) - seen

    assert run_virtual(scenario()) == 0


def test_stop_reports_every_unfinished_task_as_cancelled_once():
    kps = fake_kps()
    kps.add_task("done", [(0, DONE)])
    kps.add_task("a", [(0, RUNNING)])
    kps.add_task("b", [(0, RUNNING)])

    async def scenario():
        async with kps.serve() as url, Waiter(settings_for(url)) as waiter:
            asyncio.get_running_loop().call_later(10, waiter.stop, "interrupted by SIGTERM")
            return [r async for r in waiter.as_completed(["done", "a", "b"])]

    results = run_virtual(scenario())

    assert sorted(r.task_id for r in results) == ["a", "b", "done"]
    outcomes = by_id(results)
    assert outcomes["done"].outcome is Outcome.SUCCESS
    assert outcomes["a"].outcome is outcomes["b"].outcome is Outcome.CANCELLED
    assert outcomes["a"].error == "interrupted by SIGTERM"


def test_duplicates_are_waited_on_once():
    kps = fake_kps()
    kps.add_task("t1", [(0, DONE)])

    results = run_virtual(wait_on(kps, ["t1", "t1", "t1"]))

    assert len(results) == 1
    assert len(kps.requests_for("t1")) == 1


class _ManualClock:
    """A clock that only moves when the engine sleeps; records every sleep."""

    def __init__(self) -> None:
        self.time = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds
        await asyncio.sleep(0)


class _Highest(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


def test_injected_clock_and_randomness_give_exact_waits():
    clock = _ManualClock()
    kps = FakeKps(project_id=PROJECT, token=TOKEN, clock=clock.now)
    kps.add_task("t1", [(0, RUNNING), (60, DONE)])

    async def scenario():
        async with kps.serve() as url:
            settings = settings_for(url, min_interval=2, max_interval=10)
            async with Waiter(settings, clock=clock, rng=_Highest()) as waiter:
                return await waiter.wait("t1")

    result = asyncio.run(scenario())

    assert result.outcome is Outcome.SUCCESS
    assert clock.sleeps == [2, 4, 8, 10, 10, 10, 10, 10]  # 64 s: the first poll after 60 s
    assert result.polls == 9
    assert result.elapsed_s == 64


def test_the_deadline_cuts_the_last_wait_with_an_injected_clock():
    clock = _ManualClock()
    kps = FakeKps(project_id=PROJECT, token=TOKEN, clock=clock.now)
    kps.add_task("t1", [(0, RUNNING)])

    async def scenario():
        async with kps.serve() as url:
            settings = settings_for(url, min_interval=2, max_interval=10, timeout=25)
            async with Waiter(settings, clock=clock, rng=_Highest()) as waiter:
                return await waiter.wait("t1")

    result = asyncio.run(scenario())

    assert clock.sleeps == [2, 4, 8, 10, 1]  # 24 s, then the wait is cut to end at 25
    assert result.outcome is Outcome.TIMEOUT
    assert result.polls == 6  # the last one at the deadline itself
    assert result.elapsed_s == 25
