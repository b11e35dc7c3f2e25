"""The simulated KPS's running-tasks and failed-tasks listings: kept as indexes that change with
the timelines, they must answer exactly what a scan and a sort of every task at that moment
would (the simulator's original way), page by page, at every moment, step boundaries included.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable
from typing import Any

import aiohttp
from helpers import PROJECT, TOKEN

from waiter.testing._fake import FakeKps, Reply

STATUSES = ["READY_RESET", "RUNNING_RESET", "RUNNING_UNBIND", "SUCCESS_RESET", "FAILED_RESET"]
STATUSES += ["FAILED_UNBIND", Reply(503)]  # type: ignore[list-item]


class Clock:
    """A clock the test sets by hand, at readings that do not add up exactly."""

    def __init__(self) -> None:
        self.now = 1234.5678901

    def __call__(self) -> float:
        return self.now


def expected(kps: FakeKps, listing: str, now: float, deleted: set[str]) -> list[dict[str, Any]]:
    """The listing as the simulator used to build it: every task scanned, sorted by ID."""
    prefix = "RUNNING_" if listing == "running" else "FAILED_"
    entries = []
    for task_id in sorted(kps._tasks):
        current = kps._current_step(kps._tasks[task_id], now)
        if isinstance(current, str) and current.startswith(prefix):
            if listing == "failed" and task_id in deleted:
                continue
            entries.append(kps._listed(task_id, current, failed=listing == "failed"))
    return entries


def random_timeline(rng: random.Random, times: list[float]) -> list[tuple[float, Any]]:
    steps = sorted(rng.sample(times, rng.randint(1, 4)))
    return [(at, rng.choice(STATUSES)) for at in steps]


async def check_every_page(
    session: aiohttp.ClientSession,
    url: str,
    kps: FakeKps,
    clock: Clock,
    deleted: set[str],
    rng: random.Random,
) -> int:
    """Compare both listings, through several page sizes and offsets; the pages checked."""
    checked = 0
    for listing in ("running", "failed"):
        want = expected(kps, listing, clock.now, deleted)
        limit = rng.choice([1, 7, 50, 1000])
        offsets = [0, limit, len(want) - 1, len(want), len(want) + 3, -2, rng.randrange(60)]
        for offset in offsets:
            async with session.get(
                f"{url}/v3/{PROJECT}/{listing}-tasks",
                params={"limit": str(limit), "offset": str(offset)},
                headers={"X-Auth-Token": TOKEN},
            ) as response:
                body = await response.json()
            assert body["total"] == len(want), (listing, clock.now)
            assert body["tasks"] == want[offset : offset + limit], (listing, offset, clock.now)
            checked += 1
    return checked


async def random_history(seed: int, *, from_first_poll: bool) -> int:
    rng = random.Random(seed)
    clock = Clock()
    kps = FakeKps(
        project_id=PROJECT, token=TOKEN, clock=clock, timelines_from_first_poll=from_first_poll
    )
    times = [0.0, 0.1, 0.3, 0.7, 1.0, 1.1, 2.5, 3.0]
    # Hundreds of tasks on the same steps, so that many change listing at once (the index
    # sorts afresh) as well as a few (it puts them in place one by one).
    ids = [f"t{rng.randrange(10**6):06d}" for _ in range(800)]
    for task_id in ids[:400]:
        kps.add_task(task_id, [(0, "RUNNING_RESET"), (1.0, rng.choice(STATUSES))])
    for task_id in ids[400:]:
        kps.add_task(task_id, random_timeline(rng, times))
    deleted: set[str] = set()
    checked = 0
    async with kps.serve() as url, aiohttp.ClientSession() as session:
        zero = clock.now
        # Every step's exact moment, and the readings a rounding either side of it.
        moments = sorted({zero + at for at in times} | {zero + 0.15 * n for n in range(24)})
        for moment in moments:
            for reading in (math.nextafter(moment, -math.inf), moment, math.nextafter(moment, 9e9)):
                clock.now = max(clock.now, reading)  # time never runs backwards
                action = rng.random()
                task_id = rng.choice(ids)
                if action < 0.15:
                    # Added again while serving: its timeline starts over, from now.
                    kps.add_task(task_id, random_timeline(rng, times))
                elif action < 0.3:
                    kps.add_task(f"new{rng.randrange(10**6):06d}", random_timeline(rng, times))
                elif action < 0.45:
                    kps.delete_failed_task(task_id)
                    deleted.add(task_id)
                elif action < 0.7:
                    # A GET: with timelines from the first poll, the timeline starts from now.
                    async with session.get(
                        f"{url}/v3/{PROJECT}/tasks/{task_id}", headers={"X-Auth-Token": TOKEN}
                    ):
                        pass
                checked += await check_every_page(session, url, kps, clock, deleted, rng)
    return checked


def run(make: Callable[[], Any]) -> Any:
    return asyncio.run(make())


def test_listings_match_a_full_scan_at_every_moment():
    for seed in range(2):
        assert run(lambda seed=seed: random_history(seed, from_first_poll=False)) > 1000


def test_listings_match_a_full_scan_with_timelines_from_the_first_poll():
    for seed in range(2, 3):
        assert run(lambda seed=seed: random_history(seed, from_first_poll=True)) > 1000


def test_a_deleted_failed_task_leaves_the_failed_listing_but_still_answers_its_status():
    clock = Clock()
    kps = FakeKps(project_id=PROJECT, token=TOKEN, clock=clock)
    kps.add_task("gone", [(0, "RUNNING_RESET"), (1, "FAILED_RESET")])
    kps.add_task("kept", [(0, "FAILED_RESET")])

    async def scenario() -> tuple[list[str], str]:
        async with kps.serve() as url, aiohttp.ClientSession() as session:
            clock.now += 2
            kps.delete_failed_task("gone")
            headers = {"X-Auth-Token": TOKEN}
            async with session.get(f"{url}/v3/{PROJECT}/failed-tasks", headers=headers) as answer:
                listed = [entry["task_id"] for entry in (await answer.json())["tasks"]]
            async with session.get(f"{url}/v3/{PROJECT}/tasks/gone", headers=headers) as answer:
                status = (await answer.json())["task_status"]
            return listed, status

    assert run(scenario) == (["kept"], "FAILED_RESET")
