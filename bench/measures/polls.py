"""1. Polls per second and CPU time per poll.

:class:`waiter.Waiter` (bulk off, 32 in flight, a rate it never reaches, 1 ms between polls of
a task, 1,000 RUNNING tasks) against a bare aiohttp loop making the same GETs (one session, 32
workers, same URLs and ``X-Auth-Token``). Requests are counted by the server over a window after
a warm-up; CPU is the client process's own ``time.process_time()``. Best of the repeats, as
noise only slows a run down. Targets: polls/s >= 0.8x bare, CPU/poll <= 1.25x bare.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .common import Plan, run_client, started_server
from .report import Row, times


def measure(plan: Plan) -> dict[str, Any]:
    samples: dict[str, list[dict[str, Any]]] = {"waiter": [], "bare": []}
    # Interleaved, so a spell of load from other processes hits both kinds alike.
    for _ in range(plan.poll_repeats):
        for kind in ("bare", "waiter"):
            with started_server() as server:
                server.add_tasks("poll-", plan.poll_tasks)
                sample = run_client(
                    "polls",
                    server,
                    limit_s=plan.poll_warmup_s + plan.poll_window_s + 90,
                    kind=kind,
                    prefix="poll-",
                    tasks=plan.poll_tasks,
                    warmup=plan.poll_warmup_s,
                    window=plan.poll_window_s,
                )
            samples[kind].append(sample)
    best = {kind: best_sample(found) for kind, found in samples.items()}
    return {
        "tasks": plan.poll_tasks,
        "in_flight": 32,
        "window_s": plan.poll_window_s,
        "waiter": best["waiter"],
        "bare": best["bare"],
        "ratio_polls_per_s": best["waiter"]["polls_per_s"] / best["bare"]["polls_per_s"],
        "ratio_cpu_per_poll": best["waiter"]["cpu_per_poll_us"] / best["bare"]["cpu_per_poll_us"],
        "samples": samples,
    }


def best_sample(samples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    best = max(samples, key=lambda sample: sample["polls_per_s"])
    cheapest = min(samples, key=lambda sample: sample["cpu_per_poll_us"])
    return {
        "polls_per_s": best["polls_per_s"],
        "cpu_per_poll_us": cheapest["cpu_per_poll_us"],
        # Of the fastest window: which side, if any, had a core to itself.
        "server_cpu_share": best["server_cpu_share"],
        "client_cpu_share": best["client_cpu_share"],
    }


def rows(polls: dict[str, Any]) -> list[Row]:
    waiter, bare = polls["waiter"], polls["bare"]
    ratio_polls, ratio_cpu = polls["ratio_polls_per_s"], polls["ratio_cpu_per_poll"]
    return [
        Row(
            "polls/s, 32 in flight",
            f"{waiter['polls_per_s']:.0f}",
            f"{bare['polls_per_s']:.0f} bare",
            times(ratio_polls),
            ">= 0.8x",
            ratio_polls >= 0.8,
        ),
        Row(
            "CPU per poll",
            f"{waiter['cpu_per_poll_us']:.0f} us",
            f"{bare['cpu_per_poll_us']:.0f} us bare",
            times(ratio_cpu),
            "<= 1.25x",
            ratio_cpu <= 1.25,
        ),
    ]


def notes(polls: dict[str, Any]) -> list[str]:
    waiter, bare = polls["waiter"], polls["bare"]
    return [
        f"polls: in the fastest windows the server used {waiter['server_cpu_share']:.0%} "
        f"(waiter) / {bare['server_cpu_share']:.0%} (bare) of a core, the client "
        f"{waiter['client_cpu_share']:.0%} / {bare['client_cpu_share']:.0%}; near 100% marks "
        "the bottleneck, both well below it means other processes had the CPU"
    ]
