"""8. Mass endings: detection lag when thousands of tasks end at the same moment.

``python -m waiter --rate R`` (bulk status, ``min_interval`` 2 s) on N RUNNING tasks that all
turn SUCCESS together, some seconds after creation (time enough to start and list them all):
the lag of each, from that moment to its result line, both ``time.time()``. A success needs its
own GET (the listings alone cannot prove it; ``waiter/_engine/_bulk.py`` says why), and those
confirmations go before every other request, at the whole rate. So the ideal is one round to
see them gone (up to ``min_interval``), then a drain at the rate: the k-th of N confirmed k/R
after it, p50 = N/2R, p99 = 0.99 N/R. Baseline: that drain (the round left out). Target: p99
within the drain + ``min_interval`` + 1 s. Also N tasks FAILED together: the failed-tasks
listing settles them with no GET at all, so the lag is about one round.

R is 2,000 a second: a quick drain that two processes on one core each can still serve; the
table's notes give the rate the drain reached, to tell the client's pace from the server's.
"""

from __future__ import annotations

import json
from typing import Any

from .common import BenchError, Plan, run_waiter_cli, started_server, tail
from .lag import percentile
from .report import Row, times

MIN_INTERVAL = 2.0


def measure(plan: Plan) -> list[dict[str, Any]]:
    return [
        mass_run(tasks, finish_as, after, plan.mass_rate)
        for tasks, finish_as, after in plan.mass_runs
    ]


def mass_run(count: int, finish_as: str, after: float, rate: float) -> dict[str, Any]:
    drain = count / rate if finish_as == "success" else 0.0
    timeout = after + drain + 30
    expected = "success" if finish_as == "success" else "failure"
    with started_server() as server:
        status = "SUCCESS_RESET" if finish_as == "success" else "FAILED_RESET"
        ids = server.add_tasks("mass-", count, [after] * count, status)
        args = [
            "--rate", f"{rate:g}",
            "--min-interval", f"{MIN_INTERVAL:g}",
            "--timeout", f"{timeout:g}",
            "--bulk", "on",
        ]  # fmt: skip
        run = run_waiter_cli(server, ids, args, limit_s=timeout + 120)
        stats = server.stats(prefix="mass-")
    if run.exit_code not in (0, 1):
        raise BenchError(f"python -m waiter exited {run.exit_code}: {tail(run.stderr)}")
    tasks = stats["tasks"]
    lags = []
    for arrived, line in run.lines:
        result = json.loads(line)
        if result["outcome"] != expected:
            raise BenchError(f"{result['task_id']} ended {result['outcome']}, not {expected}")
        lags.append(arrived - tasks[result["task_id"]]["terminal_at"])
    if len(lags) != count:
        raise BenchError(f"{len(lags)} results for {count} tasks")
    gets = [task["first_get"] for task in tasks.values() if task["first_get"] is not None]
    # The first and last seconds are partial; the ones in between are whole.
    whole = [n for _, n in sorted(stats["per_second"].items(), key=lambda item: int(item[0]))]
    drained_s = max(gets) - min(gets) if len(gets) > 1 else 0.0
    return {
        "tasks": count,
        "finish_as": finish_as,
        "rate": rate,
        "min_interval": MIN_INTERVAL,
        "lag_p50_s": percentile(lags, 50),
        "lag_p99_s": percentile(lags, 99),
        "lag_max_s": max(lags),
        "ideal_p50_s": 0.50 * drain,
        "ideal_p99_s": 0.99 * drain,
        "task_gets": stats["by_kind"].get("task", 0),
        "listing_requests": {
            kind: n for kind, n in stats["by_kind"].items() if kind.endswith("-tasks")
        },
        "drain_s": drained_s,
        "drain_gets_per_s": len(gets) / drained_s if drained_s else None,
        "max_per_s": max(whole[1:-1], default=0),
    }


def rows(runs: list[dict[str, Any]]) -> list[Row]:
    found = []
    for run in runs:
        label = f"{run['tasks']:,} tasks ending together, --rate {run['rate']:g}"
        if run["finish_as"] != "success":
            label = f"{run['tasks']:,} tasks failing together, --rate {run['rate']:g}"
            found.append(
                Row(
                    f"lag p99, {label}",
                    f"{run['lag_p99_s']:.2f} s, {run['task_gets']} GETs",
                    "0 GETs",
                    "-",
                    f"<= {run['min_interval'] + 1:g} s, 0 GETs",
                    run["lag_p99_s"] <= run["min_interval"] + 1 and run["task_gets"] == 0,
                )
            )
            continue
        for pct in (50, 99):
            ideal = run[f"ideal_p{pct}_s"]
            lag = run[f"lag_p{pct}_s"]
            target = ideal + run["min_interval"] + 1
            found.append(
                Row(
                    f"lag p{pct}, {label}",
                    f"{lag:.2f} s",
                    f"{ideal:.2f} s drain",
                    times(lag / ideal),
                    f"<= {target:.1f} s" if pct == 99 else "-",
                    lag <= target if pct == 99 else None,
                )
            )
    return found


def notes(runs: list[dict[str, Any]]) -> list[str]:
    return [
        f"mass endings, {run['tasks']:,} {run['finish_as']}: {run['task_gets']:,} task GETs"
        + (
            f", drained in {run['drain_s']:.1f} s at {run['drain_gets_per_s']:.0f}/s "
            f"(--rate {run['rate']:g}), at most {run['max_per_s']} requests in a second"
            if run["drain_gets_per_s"]
            else ""
        )
        + f"; listing requests {run['listing_requests']}"
        for run in runs
    ]
