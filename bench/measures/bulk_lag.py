"""7. Bulk cadence: detection lag when a few of many tasks end.

``python -m waiter --rate 10`` (the default ``min_interval`` of 2 s, bulk status on as ``auto``
puts it) on 5,000 RUNNING tasks, of which 50 turn SUCCESS at random moments over a minute
while the rest keep running until the deadline: the lag of those 50, from the moment the
server's timeline reached SUCCESS to the moment the result line reached this process, both
``time.time()``. A round costs 6 requests (5 pages of running tasks, 1 of failed ones) of the 20
that 2 s hold at 10 a second, so rounds should start every 2 s. Target: p99 <= min_interval +
1 s.

Baselines, computed for the same end times (neither can be run in the same tree):

* per-task polling, as every other waiter does: at 10 requests a second each of 5,000 tasks is
  looked at every 500 s, so a task ending at a random moment waits up to 500 s, p99 ~495 s;
* the previous bulk cadence, rounds backing off like single polls (a wait uniform between
  ``min_interval`` and a cap of 2, 4, 8, 16, then 20 s, after each round), simulated with
  waiter's own ``Schedule`` over many runs, each round taking its 6 requests at the rate and the
  confirmation GET one more.
"""

from __future__ import annotations

import json
import math
import random
from typing import Any

# Private, on purpose: the old cadence is simulated with the very schedule it followed.
from waiter._engine._schedule import Schedule

from .common import BenchError, Plan, run_waiter_cli, started_server, tail
from .lag import percentile
from .report import Row, times

MIN_INTERVAL, MAX_INTERVAL = 2.0, 20.0  # waiter's defaults: what a user gets without flags
PAGE = 1000  # KPS's largest listing page
SIMULATED_RUNS = 200


def measure(plan: Plan) -> dict[str, Any]:
    rng = random.Random(20250112)  # the same tasks and end times every run
    count, ending, rate = plan.bulk_lag_tasks, plan.bulk_lag_ending, plan.bulk_lag_rate
    first, last = plan.bulk_lag_window
    finish: list[float | None] = [None] * count
    for index in rng.sample(range(count), ending):
        finish[index] = rng.uniform(first, last)
    timeout = last + 10
    with started_server() as server:
        # Timelines count from creation: in bulk status a task gets no GET until it has ended.
        ids = server.add_tasks("bulk-", count, finish)
        args = ["--rate", f"{rate:g}", "--timeout", f"{timeout:g}", "--bulk", "auto"]
        run = run_waiter_cli(server, ids, args, limit_s=timeout + 60)
        stats = server.stats(prefix="bulk-")
    if run.exit_code != 3:  # the tasks that never end time out
        raise BenchError(f"python -m waiter exited {run.exit_code}: {tail(run.stderr)}")
    tasks = stats["tasks"]
    lags, unseen = [], 0
    for arrived, line in run.lines:
        result = json.loads(line)
        terminal_at = tasks[result["task_id"]]["terminal_at"]
        if terminal_at is None:
            continue  # one of those that never end
        # An ending not seen by the deadline counts until its timeout line: a lower bound.
        unseen += result["outcome"] != "success"
        lags.append(arrived - terminal_at)
    if len(run.lines) != count or len(lags) != ending:
        raise BenchError(f"{len(run.lines)} results for {count} tasks")
    cost = math.ceil(count / PAGE) + 1
    seconds = sorted(int(second) for second in stats["per_second"])
    # The first and last seconds are partial; the ones in between are whole.
    whole = [stats["per_second"][str(second)] for second in seconds][1:-1]
    return {
        "tasks": count,
        "ending": ending,
        "rate": rate,
        "min_interval": MIN_INTERVAL,
        "requests_per_round": cost,
        "lag_p50_s": percentile(lags, 50),
        "lag_p99_s": percentile(lags, 99),
        "lag_max_s": max(lags),
        "unseen_by_the_deadline": unseen,
        "requests": stats["by_kind"],
        "listing_passes": stats["list_passes"],
        "requests_per_s": stats["total"] / max(seconds[-1] - seconds[0] + 1, 1),
        "max_per_s": max(whole, default=0),
        "per_task_polling_p50_s": 0.50 * count / rate,
        "per_task_polling_p99_s": 0.99 * count / rate,
        **old_cadence(finish, cost, rate),
    }


def old_cadence(finish: list[float | None], cost: int, rate: float) -> dict[str, float]:
    """The lag the previous bulk cadence gives the same endings, over many simulated runs."""
    ends = [at for at in finish if at is not None]
    round_s = cost / rate  # the round's pages at the rate
    lags = []
    for run in range(SIMULATED_RUNS):
        schedule = Schedule(MIN_INTERVAL, MAX_INTERVAL, random.Random(run))
        start, rounds, starts = 0.0, 0, []
        while start < max(ends) + MAX_INTERVAL + round_s:
            starts.append(start)
            rounds += 1
            start += round_s + schedule.wait(rounds)
        for end in ends:
            seen = next(at for at in starts if at >= end)
            lags.append(seen - end + round_s + 1 / rate)  # its round, then its GET
    return {"old_cadence_p50_s": percentile(lags, 50), "old_cadence_p99_s": percentile(lags, 99)}


def rows(bulk: dict[str, Any]) -> list[Row]:
    label = f"{bulk['ending']} of {bulk['tasks']:,} tasks, --rate {bulk['rate']:g}"
    target = bulk["min_interval"] + 1
    return [
        Row(
            f"bulk lag p50, {label}",
            f"{bulk['lag_p50_s']:.2f} s",
            f"{bulk['old_cadence_p50_s']:.1f} s old cadence",
            times(bulk["lag_p50_s"] / bulk["old_cadence_p50_s"]),
            "-",
            None,
        ),
        Row(
            f"bulk lag p99, {label}",
            f"{bulk['lag_p99_s']:.2f} s",
            f"{bulk['old_cadence_p99_s']:.1f} s old cadence",
            times(bulk["lag_p99_s"] / bulk["old_cadence_p99_s"]),
            f"<= {target:g} s",
            bulk["lag_p99_s"] <= target,
        ),
        Row(
            f"  server max req/s, --rate {bulk['rate']:g}",
            f"{bulk['max_per_s']}",
            f"{bulk['rate']:g}",
            times(bulk["max_per_s"] / bulk["rate"]),
            "<= 1.05x",
            bulk["max_per_s"] <= 1.05 * bulk["rate"],
        ),
        Row(
            "  against per-task polling, p99",
            f"{bulk['lag_p99_s']:.2f} s",
            f"{bulk['per_task_polling_p99_s']:.0f} s",
            times(bulk["lag_p99_s"] / bulk["per_task_polling_p99_s"], ".3f"),
            "-",
            None,
        ),
    ]


def notes(bulk: dict[str, Any]) -> list[str]:
    found = [
        f"bulk lag: {bulk['requests_per_round']} requests a round, "
        f"{bulk['requests_per_s']:.1f} requests/s on average against --rate {bulk['rate']:g}; "
        "baselines computed (per-task polling: N/rate; old cadence: "
        f"{SIMULATED_RUNS} simulated runs of the old back-off)"
    ]
    if bulk["unseen_by_the_deadline"]:
        found.append(
            f"bulk lag: {bulk['unseen_by_the_deadline']} endings not seen by the deadline, "
            "their lag counted to it (a lower bound)"
        )
    return found
