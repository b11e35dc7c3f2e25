"""4. Rate.

``python -m waiter --rate R`` on 500 pending tasks; the most requests the server saw in any
whole second after the first (and before the last, which is cut short), against R.
Target: <= 1.05x.
"""

from __future__ import annotations

import statistics
from typing import Any

from .common import BenchError, Plan, run_waiter_cli, started_server, tail
from .report import Row, times


def measure(plan: Plan) -> list[dict[str, Any]]:
    return [rate_run(plan, rate, seconds) for rate, seconds in plan.rate_runs]


def rate_run(plan: Plan, rate: float, seconds: float) -> dict[str, Any]:
    with started_server() as server:
        ids = server.add_tasks("rate-", plan.rate_tasks)
        args = [
            "--rate", f"{rate:g}",
            "--min-interval", "0.1", "--max-interval", "0.5",  # demand far above the rate
            "--timeout", f"{seconds:g}",
            "--bulk", "off",
        ]  # fmt: skip
        run = run_waiter_cli(server, ids, args, limit_s=seconds + 60)
        per_second = server.stats()["per_second"]
    if run.exit_code != 3 or len(run.lines) != plan.rate_tasks:
        raise BenchError(f"expected {plan.rate_tasks} timeouts, exit 3: {tail(run.stderr)}")
    # The first and last seconds are partial; the ones in between are whole.
    whole = [per_second[second] for second in sorted(per_second)][1:-1]
    if not whole:
        raise BenchError("the run was shorter than three seconds")
    return {
        "rate": rate,
        "tasks": plan.rate_tasks,
        "seconds": seconds,
        "per_second": whole,
        "max_per_s": max(whole),
        "mean_per_s": statistics.fmean(whole),
        "ratio": max(whole) / rate,
    }


def rows(rates: list[dict[str, Any]]) -> list[Row]:
    return [
        Row(
            f"server max req/s, --rate {run['rate']:g}",
            f"{run['max_per_s']}",
            f"{run['rate']:g}",
            times(run["ratio"]),
            "<= 1.05x",
            run["ratio"] <= 1.05,
        )
        for run in rates
    ]
