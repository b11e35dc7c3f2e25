"""The poll path's cheap ways of doing its work: the deadline cut, the dispatcher's wake-ups,
the debug events it describes only when they would be written, the statuses it has seen
before, and the workers' queue."""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

import pytest
import structlog
from helpers import TOKEN, fake_kps, settings_for, wait_on
from virtual_time import run_virtual

from waiter import Outcome, Waiter
from waiter._engine._clock import InstantClock
from waiter._engine._engine import VERDICTS_KEPT, ReadyQueue
from waiter._engine._task import Task
from waiter._event_log import BestEffortLog, StdlibEventLog, is_enabled_for
from waiter.testing._fake import Reply

RUNNING, DONE = "RUNNING_RESET", "SUCCESS_RESET"


# --- the deadline cut ----------------------------------------------------------------------------


def test_a_poll_out_at_the_deadline_is_cut_at_the_end_of_the_last_polls_grace():
    # On the loop's clock the supervisor's one timer makes the cut, at the moment each poll's
    # own time-out used to: the deadline plus the last poll's grace (0.5 s).
    kps = fake_kps()
    kps.add_task("hangs", [(0, RUNNING), (19, Reply(hang=True))])
    kps.add_task("runs", [(0, RUNNING)])

    results = run_virtual(
        wait_on(kps, ["hangs", "runs"], timeout=20, request_timeout=1000, min_interval=2)
    )

    hangs, runs = results
    assert hangs.outcome is runs.outcome is Outcome.TIMEOUT
    assert hangs.elapsed_s == pytest.approx(20.5, abs=0.01)
    assert runs.elapsed_s == pytest.approx(20, abs=0.01)  # its last poll came back at once
    assert "deadline of 20 s reached while RUNNING_RESET" in (hangs.error or "")


def test_with_an_injected_clock_each_poll_is_cut_by_its_own_time_out():
    # An injected clock's deadline is no moment of the loop's clock: the supervisor's timer,
    # set on the loop's clock, only backs the poll's own time-out up (0.3 s later).
    kps = fake_kps()
    kps.add_task("hangs", [(0, Reply(hang=True))])

    async def scenario() -> tuple[float, Any]:
        loop = asyncio.get_running_loop()
        async with kps.serve() as url:
            settings = settings_for(url, timeout=20, request_timeout=1000)
            started = loop.time()
            async with Waiter(settings, clock=InstantClock()) as waiter:
                result = await waiter.wait("hangs")
            return loop.time() - started, result

    took, result = run_virtual(scenario())

    assert result.outcome is Outcome.TIMEOUT
    assert took == pytest.approx(20.5, abs=0.05)


def test_a_task_waiting_for_a_rate_limited_slot_past_the_deadline_ends_at_the_cut():
    kps = fake_kps()
    ids = [f"t{n}" for n in range(30)]
    for task_id in ids:
        kps.add_task(task_id, [(0, RUNNING)])

    # One request a second: the last first polls would go out long after the deadline.
    results = run_virtual(wait_on(kps, ids, timeout=10, rate=1, bulk="off"))

    assert {r.outcome for r in results} == {Outcome.TIMEOUT}
    assert max(r.elapsed_s for r in results) <= 10.5 + 0.01
    assert max(r.at for r in kps.requests) - min(r.at for r in kps.requests) <= 10.5


# --- the dispatcher ------------------------------------------------------------------------------


def test_a_poll_due_before_the_dispatchers_sleep_ends_wakes_it():
    # One worker: "slow" is polled first and told to come back in 50 s, so the dispatcher
    # sleeps until then; "fast", polled next, is due again in 2 s and must not wait for it.
    kps = fake_kps()
    kps.add_task("slow", [(0, Reply(503, headers={"Retry-After": "50"})), (1, DONE)])
    kps.add_task("fast", [(0, RUNNING), (10, DONE)])

    results = run_virtual(
        wait_on(kps, ["slow", "fast"], max_in_flight=1, min_interval=2, max_interval=4, bulk="off")
    )

    slow, fast = results
    assert fast.outcome is Outcome.SUCCESS
    times = [r.at for r in kps.requests_for("fast")]
    assert all(2 - 0.05 <= b - a <= 4 + 0.05 for a, b in itertools.pairwise(times))
    assert fast.elapsed_s < 15
    assert slow.outcome is Outcome.SUCCESS
    assert slow.elapsed_s == pytest.approx(50, abs=0.1)


# --- debug events ---------------------------------------------------------------------------------


class _Recorder:
    """An event log that says whether it wants debug events, and records what it gets."""

    def __init__(self, *, debug: bool) -> None:
        self.wants_debug = debug
        self.events: list[tuple[str, str]] = []

    def is_enabled_for(self, level: int) -> bool:
        return level > logging.DEBUG or self.wants_debug

    def debug(self, event: str, **fields: Any) -> None:
        self.events.append(("debug", event))

    def info(self, event: str, **fields: Any) -> None:
        self.events.append(("info", event))

    def warning(self, event: str, **fields: Any) -> None:
        self.events.append(("warning", event))

    def error(self, event: str, **fields: Any) -> None:
        self.events.append(("error", event))


@pytest.mark.parametrize("debug", [True, False])
def test_poll_scheduled_is_described_only_for_a_log_that_wants_debug_events(debug):
    kps = fake_kps()
    kps.add_task("t1", [(0, RUNNING), (5, DONE)])
    log = _Recorder(debug=debug)

    async def scenario() -> None:
        async with kps.serve() as url, Waiter(settings_for(url), logger=log) as waiter:  # type: ignore[arg-type]
            await waiter.wait("t1")

    run_virtual(scenario())

    scheduled = [event for level, event in log.events if event == "poll_scheduled"]
    assert bool(scheduled) is debug
    assert ("info", "task_ended") in log.events


def test_is_enabled_for_asks_the_logger_and_says_yes_when_it_cannot_tell():
    stdlib = logging.getLogger("waiter.test.enabled")
    stdlib.setLevel(logging.INFO)

    class Broken:
        def is_enabled_for(self, level: int) -> bool:
            raise RuntimeError("no")

    assert not is_enabled_for(StdlibEventLog(stdlib), logging.DEBUG)
    assert is_enabled_for(StdlibEventLog(stdlib), logging.INFO)
    assert not BestEffortLog(StdlibEventLog(stdlib)).is_enabled_for(logging.DEBUG)
    assert is_enabled_for(object(), logging.DEBUG)  # no way to ask: every event is written
    assert is_enabled_for(Broken(), logging.DEBUG)


# --- the answers' statuses -------------------------------------------------------------------


def test_a_status_holding_a_secret_stays_masked_poll_after_poll():
    # The same text as last time is kept as shown without a second look at it; a status the
    # redactor masked is never the same text as the answer's, so it is looked at every time.
    kps = fake_kps()
    kps.add_task("t1", [(0, f"RUNNING_{TOKEN}")], server_id=f"srv-{TOKEN}")

    with structlog.testing.capture_logs() as events:
        [result] = run_virtual(wait_on(kps, ["t1"], timeout=10, min_interval=1, max_interval=1))

    assert result.outcome is Outcome.TIMEOUT
    assert result.polls >= 5
    assert TOKEN not in str(result)
    assert result.status == "RUNNING_***"
    assert result.server_id == "srv-***"
    changes = [e for e in events if e["event"] == "status_changed"]
    assert [e["status"] for e in changes] == ["RUNNING_***"]


def test_the_verdicts_an_engine_keeps_are_bounded():
    kps = fake_kps()
    kps.add_task("t1", [(n, f"RUNNING_{n}") for n in range(VERDICTS_KEPT + 30)])

    async def scenario() -> tuple[Any, int]:
        async with kps.serve() as url:
            settings = settings_for(url, timeout=VERDICTS_KEPT + 40, min_interval=1, max_interval=1)
            async with Waiter(settings) as waiter:
                result = await waiter.wait("t1")
                return result, len(waiter._engine.verdicts)  # type: ignore[union-attr]

    result, kept = run_virtual(scenario())

    assert result.polls > VERDICTS_KEPT + 20  # each a status never seen before
    assert kept == VERDICTS_KEPT


# --- the ready queue ------------------------------------------------------------------------------


def test_the_ready_queue_hands_items_out_in_order_to_waiting_workers():
    async def scenario() -> list[tuple[str, Any]]:
        queue = ReadyQueue()
        got: list[tuple[str, Any]] = []

        async def worker(name: str) -> None:
            while True:
                got.append((name, await queue.get()))

        workers = [asyncio.create_task(worker(name)) for name in "ab"]
        await asyncio.sleep(0)
        tasks = [Task(f"t{n}") for n in range(4)]
        for task in tasks:
            queue.put_nowait(task)
        await asyncio.sleep(0.1)
        for one in workers:
            one.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        return got

    got = run_virtual(scenario())

    assert [task.task_id for _, task in got] == ["t0", "t1", "t2", "t3"]


def test_a_worker_woken_for_an_item_another_took_waits_again():
    async def scenario() -> tuple[bool, Any]:
        queue = ReadyQueue()
        waiting = asyncio.create_task(queue.get())
        await asyncio.sleep(0)
        queue.put_nowait(Task("t1"))  # wakes ``waiting``...
        taken = queue.popleft()  # ...but a busy worker takes it first
        await asyncio.sleep(0.01)
        still_waiting = not waiting.done()
        queue.put_nowait(Task("t2"))
        return still_waiting, (taken, await waiting)

    still_waiting, (taken, then) = run_virtual(scenario())

    assert still_waiting
    assert (taken.task_id, then.task_id) == ("t1", "t2")


def test_a_wake_up_a_cancelled_worker_cannot_use_goes_to_the_next():
    async def scenario() -> Any:
        queue = ReadyQueue()
        first = asyncio.create_task(queue.get())
        second = asyncio.create_task(queue.get())
        await asyncio.sleep(0)
        queue.put_nowait(Task("t1"))  # wakes ``first``, cancelled before it runs
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        return await asyncio.wait_for(second, timeout=1)

    assert run_virtual(scenario()).task_id == "t1"
