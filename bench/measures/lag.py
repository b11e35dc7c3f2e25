"""3. Detection lag.

``python -m waiter --output json`` on 200 tasks that turn SUCCESS at random times 1-10 s after
their first poll (min_interval 0.5, max_interval 2): from the moment the server's timeline
reached SUCCESS to the moment the result line reached this process, both ``time.time()``.
Baseline: the task's wait cap then, ``min(max_interval, min_interval * 2**(n-1))`` for a task
polled ``n`` times before the poll that saw the end. With ``--bulk off``, as that cap is the
per-task schedule's. Targets: p99 lag <= p99 cap + 100 ms, and per task, p99 of (lag - cap)
<= 100 ms.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

from .common import BenchError, Plan, run_waiter_cli, started_server, tail
from .report import Row, times


def wait_cap(plan: Plan, polls_before: int) -> float:
    """The cap of the wait after poll ``polls_before``: the longest the end could go unseen."""
    return min(plan.lag_max_interval, plan.lag_min_interval * 2.0 ** (polls_before - 1))


def measure(plan: Plan) -> dict[str, Any]:
    rng = random.Random(20240601)  # the same finishing times every run
    finish = [rng.uniform(*plan.lag_finish_s) for _ in range(plan.lag_tasks)]
    # Timelines from each task's first GET: the CLI's start-up time must not count as lag.
    with started_server(from_first_poll=True) as server:
        ids = server.add_tasks("lag-", plan.lag_tasks, finish)
        args = [
            "--min-interval", str(plan.lag_min_interval),
            "--max-interval", str(plan.lag_max_interval),
            "--rate", "1000",  # far above the ~200/s these tasks need: no queueing for a slot
            "--timeout", str(plan.lag_finish_s[1] + 20),
            "--bulk", "off",  # the cap is the per-task schedule's
        ]  # fmt: skip
        run = run_waiter_cli(server, ids, args, limit_s=plan.lag_finish_s[1] + 60)
        tasks = server.stats(prefix="lag-")["tasks"]
    if run.exit_code != 0:
        raise BenchError(f"python -m waiter exited {run.exit_code}: {tail(run.stderr)}")
    lags, caps, excess = [], [], []
    for arrived, line in run.lines:
        result = json.loads(line)
        terminal_at = tasks[result["task_id"]]["terminal_at"]
        lag = arrived - terminal_at
        cap = wait_cap(plan, result["polls"] - 1)
        lags.append(lag)
        caps.append(cap)
        excess.append(lag - cap)
    if len(lags) != plan.lag_tasks:
        raise BenchError(f"{len(lags)} results for {plan.lag_tasks} tasks")
    return {
        "tasks": plan.lag_tasks,
        "min_interval": plan.lag_min_interval,
        "max_interval": plan.lag_max_interval,
        "lag_p50_s": percentile(lags, 50),
        "lag_p99_s": percentile(lags, 99),
        "lag_max_s": max(lags),
        "cap_p50_s": percentile(caps, 50),
        "cap_p99_s": percentile(caps, 99),
        "excess_p99_s": percentile(excess, 99),
        "within_cap_plus_100ms": sum(e <= 0.1 for e in excess) / len(excess),
    }


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: a value that was actually seen."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def rows(lag: dict[str, Any]) -> list[Row]:
    p99_met = lag["lag_p99_s"] <= lag["cap_p99_s"] + 0.1
    return [
        Row(
            "detection lag p50",
            f"{lag['lag_p50_s']:.3f} s",
            f"{lag['cap_p50_s']:.2f} s cap",
            times(lag["lag_p50_s"] / lag["cap_p50_s"]),
            "-",
            None,
        ),
        Row(
            "detection lag p99",
            f"{lag['lag_p99_s']:.3f} s",
            f"{lag['cap_p99_s']:.2f} s cap",
            times(lag["lag_p99_s"] / lag["cap_p99_s"]),
            "<= cap + 0.1 s",
            p99_met,
        ),
        Row(
            "  per task: p99 of lag - cap",
            f"{lag['excess_p99_s']:+.3f} s",
            "0 s",
            "-",
            "<= 0.1 s",
            lag["excess_p99_s"] <= 0.1,
        ),
    ]
