"""The request limiter: the rate holds, 429 halves it, quiet spells bring it back."""

from __future__ import annotations

import asyncio
import itertools

import structlog
from helpers import fake_kps, wait_on
from virtual_time import run_virtual

from waiter._engine._clock import LoopClock
from waiter._engine._limits import RequestLimiter
from waiter.testing._fake import Reply

RUNNING, DONE = "RUNNING_RESET", "SUCCESS_RESET"


def _starts(limiter: RequestLimiter, count: int) -> list[float]:
    async def scenario() -> list[float]:
        loop = asyncio.get_running_loop()
        starts: list[float] = []

        async def one() -> None:
            async with limiter.slot():
                starts.append(loop.time())

        await asyncio.gather(*(one() for _ in range(count)))
        return starts

    return run_virtual(scenario())


def test_starts_are_spaced_by_the_rate_in_arrival_order():
    starts = _starts(RequestLimiter(max_in_flight=100, rate=4, clock=LoopClock()), 9)

    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(abs(gap - 0.25) < 0.01 for gap in gaps)


def test_a_429_halves_the_rate_once_per_burst_and_logs_it():
    async def scenario() -> float:
        limiter = RequestLimiter(max_in_flight=10, rate=20, clock=LoopClock())
        sent_at = asyncio.get_running_loop().time()
        limiter.throttled(sent_at)
        await asyncio.sleep(2)
        limiter.throttled(sent_at)  # sent before the rate changed: no news
        return limiter.rate

    with structlog.testing.capture_logs() as events:
        rate = run_virtual(scenario())

    assert rate == 10
    [change] = [e for e in events if e["event"] == "rate_changed"]
    assert (change["rate"], change["previous"], change["configured"]) == (10, 20, 20)


def test_the_rate_recovers_additively_after_quiet_spells_never_above_the_configured():
    async def scenario() -> list[float]:
        loop = asyncio.get_running_loop()
        limiter = RequestLimiter(max_in_flight=10, rate=20, clock=LoopClock())
        limiter.throttled(loop.time())
        await asyncio.sleep(2)
        limiter.throttled(loop.time())  # 10 -> 5
        seen = [limiter.rate]
        for _ in range(20):
            await asyncio.sleep(5)
            async with limiter.slot():
                seen.append(limiter.rate)
        return seen

    seen = run_virtual(scenario())

    assert seen[:4] == [5, 7, 9, 11]  # +10 % of the configured 20 per quiet spell
    assert max(seen) == 20
    assert seen[-1] == 20


def test_a_burst_of_429s_halves_the_run_rate_once_then_it_recovers():
    kps = fake_kps()
    for n in range(30):
        burst = {1: Reply(429, "APIGW.0308", "throttled")} if n < 5 else {}
        kps.add_task(f"t{n}", [(0, RUNNING), (60, DONE)], replies=burst)

    with structlog.testing.capture_logs() as events:
        results = run_virtual(wait_on(kps, [f"t{n}" for n in range(30)], rate=10, bulk="off"))

    assert all(r.outcome.value == "success" for r in results)
    rates = [e["rate"] for e in events if e["event"] == "rate_changed"]
    assert rates[0] == 5
    assert rates.count(5) == 1  # the burst counted once
    assert rates[-1] == 10  # back to the configured rate, never above it


def test_polls_are_served_in_the_order_they_fell_due_so_no_task_starves():
    kps = fake_kps()
    ids = [f"t{n:02d}" for n in range(40)]
    for task_id in ids:
        kps.add_task(task_id, [(0, RUNNING)])

    # 40 tasks, 4 requests a second: each round of polls takes 10 s, longer than any wait.
    run_virtual(wait_on(kps, ids, rate=4, bulk="off", timeout=45, min_interval=1, max_interval=2))

    order = [r.task_id for r in kps.requests]
    first_round, second_round = order[:40], order[40:80]
    assert first_round == ids  # the first polls in the order given
    assert second_round == ids  # then again in the order they fell due: nobody is skipped


# --- places in flight ---------------------------------------------------------------------------


def _limiter(max_in_flight: int) -> RequestLimiter:
    return RequestLimiter(max_in_flight=max_in_flight, rate=1_000_000, clock=LoopClock())


def test_places_in_flight_go_to_waiting_callers_first_come_first_served():
    async def scenario() -> list[int]:
        limiter = _limiter(2)
        entered: list[int] = []

        async def one(n: int) -> None:
            async with limiter.slot():
                entered.append(n)
                await asyncio.sleep(1)

        tasks = []
        for n in range(6):
            tasks.append(asyncio.create_task(one(n)))
            await asyncio.sleep(0.01)  # arrive in this order
        await asyncio.gather(*tasks)
        return entered

    assert run_virtual(scenario()) == [0, 1, 2, 3, 4, 5]


def test_a_caller_cancelled_while_it_waits_for_a_place_leaves_the_line():
    async def scenario() -> tuple[bool, int]:
        limiter = _limiter(1)
        await limiter.acquire()
        waiting = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        limiter.release()
        # The place is free again: a new caller gets it at once, not behind the cancelled one.
        took = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0.01)
        return took.done(), limiter._free

    assert run_virtual(scenario()) == (True, 0)


def test_a_place_handed_to_a_caller_cancelled_before_it_ran_passes_to_the_next():
    async def scenario() -> bool:
        limiter = _limiter(1)
        await limiter.acquire()
        first = asyncio.create_task(limiter.acquire())
        second = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0)
        limiter.release()  # handed to ``first``, which is cancelled before it resumes
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        await asyncio.wait_for(second, timeout=1)
        return first.cancelled()

    assert run_virtual(scenario())


def test_a_caller_cancelled_while_it_waits_for_its_start_gives_its_place_back():
    async def scenario() -> int:
        limiter = RequestLimiter(max_in_flight=1, rate=0.5, clock=LoopClock())
        await limiter.acquire()
        limiter.release()
        waiting = asyncio.create_task(limiter.acquire())  # its start is 2 s away
        await asyncio.sleep(1)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        return limiter._free

    assert run_virtual(scenario()) == 1


def test_acquire_gives_the_time_the_request_may_go():
    async def scenario() -> list[float]:
        loop = asyncio.get_running_loop()
        limiter = RequestLimiter(max_in_flight=10, rate=2, clock=LoopClock())
        started = loop.time()
        given = []
        for _ in range(3):
            given.append(await limiter.acquire() - started)
            limiter.release()
        return given

    assert run_virtual(scenario()) == [0, 0.5, 1.0]


class _CoarseClock:
    """A clock that counts whole milliseconds, as uvloop's does."""

    def now(self) -> float:
        return int(asyncio.get_running_loop().time() * 1000) / 1000

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def test_starts_less_than_a_millisecond_apart_go_at_once_on_a_coarse_clock():
    async def scenario() -> list[float | None]:
        limiter = RequestLimiter(max_in_flight=10, rate=1_000_000, clock=_CoarseClock())
        now = limiter._clock.now()
        return [limiter.take(now) for _ in range(5)]

    assert None not in run_virtual(scenario())


def test_at_a_high_rate_no_second_holds_more_than_a_thousandth_over_it():
    async def scenario() -> list[float]:
        loop = asyncio.get_running_loop()
        limiter = RequestLimiter(max_in_flight=10, rate=2000, clock=_CoarseClock())
        starts = []
        for _ in range(6000):
            await limiter.acquire()
            starts.append(loop.time())
            limiter.release()
        return starts

    starts = run_virtual(scenario())

    # Rounding to whole milliseconds may cut up to one from the span; 1e-6 is room for the float
    # rounding of times as large as a monotonic clock's after days of uptime.
    assert starts[-1] - starts[0] >= 6000 / 2000 - 1 / 2000 - 1e-3 - 1e-6
    for i in range(0, len(starts), 97):
        in_one_second = [t for t in starts[i : i + 2100] if t < starts[i] + 1.0]
        assert len(in_one_second) <= 2000 * 1.001 + 1
