"""5. Requests per round.

Requests per round for 5,000 pending tasks, bulk off and bulk on. A round is one look at every
pending task; rounds are counted from the server's log: GETs per task, plus one for each pass
over the listings (a listing request at offset 0), since a pass looks at every pending task.
Bulk off runs until two rounds' worth of GETs, bulk on for 5 s (1 s between rounds). Baselines:
the task count for bulk off, and bulk off's figure for bulk on. Target: bulk on <= 12.
"""

from __future__ import annotations

import json
from typing import Any

from .common import Plan, run_client, started_server
from .report import Row, times


def measure(plan: Plan) -> dict[str, Any]:
    return {
        "tasks": plan.round_tasks,
        "window_s": plan.round_window_s,
        "off": rounds_run(plan, "off"),
        "on": rounds_run(plan, "on"),
    }


def rounds_run(plan: Plan, bulk: str) -> dict[str, Any]:
    settings = {"min_interval": 1.0, "max_interval": 1.0, "rate": 10_000.0, "bulk": bulk}
    # Bulk off needs a second per task per round at ~1,000 polls/s: it runs until it has
    # made two rounds' worth of GETs, rather than for a fixed time.
    window = plan.round_off_limit_s if bulk == "off" else plan.round_window_s
    until = 2 * plan.round_tasks if bulk == "off" else 0
    with started_server() as server:
        server.add_tasks("round-", plan.round_tasks)
        run_client(
            "rounds",
            server,
            limit_s=window + 90,
            prefix="round-",
            tasks=plan.round_tasks,
            window=window,
            until=until,
            settings=json.dumps(settings),
        )
        stats = server.stats(prefix="round-")
    gets = [task["gets"] for task in stats["tasks"].values()]
    passes = max(stats["list_passes"].values(), default=0)
    # Each GET looks at one task; each pass over the listings looks at every pending task.
    rounds = sum(gets) / len(gets) + passes
    return {
        "requests": stats["total"],
        "by_kind": stats["by_kind"],
        "listing_passes": passes,
        "rounds": rounds,
        "requests_per_round": stats["total"] / rounds if rounds else None,
        "tasks_never_looked_at": sum(1 for n in gets if n == 0) if not passes else 0,
    }


def rows(rounds: dict[str, Any]) -> list[Row]:
    tasks, off, on = rounds["tasks"], rounds["off"], rounds["on"]
    off_per_round, per_round = off["requests_per_round"], on["requests_per_round"]
    return [
        Row(
            f"requests/round, {tasks:,} tasks, bulk off",
            f"{off_per_round:.1f}",
            f"{tasks:,} tasks",
            times(off_per_round / tasks),
            "-",
            None,
        ),
        Row(
            f"requests/round, {tasks:,} tasks, bulk on",
            f"{per_round:.1f}",
            "bulk off",
            times(per_round / off_per_round, ".2g"),
            "<= 12",
            per_round <= 12,
        ),
    ]
