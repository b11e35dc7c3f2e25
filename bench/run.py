"""waiter's benchmark: one command, every figure next to a baseline measured in the same run.

Run it from the repository root::

    python bench/run.py            # full run, about 15 minutes; also writes bench/latest.json
    python bench/run.py --quick    # smaller, for CI (about 2 minutes)
    python bench/run.py --json PATH   # where the results go (default bench/results/latest.json)
    python bench/run.py --only polls help   # some measurements only (writes no bench/latest.json)

It prints a table and writes JSON with the date, the machine (nproc, Python, aiohttp) and every
figure. The simulated KPS runs in a process of its own (``bench/server.py``); each client runs in
a process of its own too (``bench/client.py``, or ``python -m waiter``), so each side's CPU time
and memory are its own. Only 127.0.0.1 is contacted; every process and loop is bounded in time.

What it measures, and against what, one module of ``bench/measures/`` each (its docstring says
more); shared plumbing, the plan of a run and the servers and clients, is in ``common.py``, the
table and the JSON in ``report.py``:

1. ``polls``: polls per second and CPU time per poll, against a bare aiohttp loop.
   ``instructions``: instructions per poll (callgrind), against the bare loop.
2. ``memory``: peak RSS waiting on 10,000 and 100,000 tasks, against imports only.
3. ``lag``: detection lag of ``python -m waiter``, against the wait cap.
4. ``rate``: the most requests the server saw in a second, against ``--rate``.
5. ``rounds``: requests per round, bulk off (against the task count) and on (against off).
6. ``help``: ``python -m waiter --help`` wall time, against ``python -c pass``.
7. ``bulk_lag``: detection lag of 50 of 5,000 tasks with bulk rounds at ``--rate 10``, against
   per-task polling at that rate and the old bulk cadence (both computed).
8. ``mass_endings``: detection lag of 10,000 and 100,000 tasks ending together, against the
   drain at the rate; and 10,000 failing together, settled without a GET.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from measures import MEASUREMENTS
from measures.common import BENCH, FULL, QUICK, Plan
from measures.report import Row, failed, machine, render, write_json

DEFAULT_JSON = BENCH / "results" / "latest.json"
COMMITTED_JSON = BENCH / "latest.json"


def run_all(plan: Plan, only: Sequence[str]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, measurement in MEASUREMENTS.items():
        if only and name not in only:
            continue
        started = time.perf_counter()
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        try:
            figures[name] = measurement.measure(plan)
        except Exception as error:
            # One broken measurement must not cost the others: record it and go on.
            figures[name] = {"error": f"{type(error).__name__}: {error}"}
        print(f"  {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return figures


def rows_for(figures: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name, measurement in MEASUREMENTS.items():
        found = figures.get(name)
        if failed(found):
            rows.append(Row(name, "error", "-", "-", "-", False))
        elif found is not None:
            rows += measurement.rows(found)
    return rows


def notes_for(figures: dict[str, Any]) -> list[str]:
    """What a reader needs to judge the figures: who was the bottleneck, what was left out."""
    notes = []
    for name, measurement in MEASUREMENTS.items():
        found = figures.get(name)
        if measurement.notes is not None and found is not None and not failed(found):
            notes += measurement.notes(found)
    notes.append(f"load average at the end: {', '.join(f'{n:.2f}' for n in os.getloadavg())}")
    return notes


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="waiter's benchmark (see the module docstring)")
    parser.add_argument("--quick", action="store_true", help="a smaller run, for CI")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    parser.add_argument(
        "--only", nargs="*", choices=list(MEASUREMENTS), default=[], help="run only these"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    plan = QUICK if args.quick else FULL
    (BENCH / "results").mkdir(exist_ok=True)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(
            ["python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": machine(),
        "plan": dataclasses.asdict(plan),
    }
    figures = run_all(plan, args.only)
    rows = rows_for(figures)
    report["wall_s"] = round(time.perf_counter() - started, 1)
    report["figures"] = figures
    report["table"] = [dataclasses.asdict(row) for row in rows]
    report["notes"] = notes_for(figures)
    print(render(rows))
    print("\n".join(["", *report["notes"]]))
    print(f"\n{len(rows)} figures in {report['wall_s']} s; JSON: {args.json}")
    write_json(args.json, report)
    if not plan.quick and not args.only:
        write_json(COMMITTED_JSON, report)  # bench/results/ is git-ignored; this copy is not
    errors = [name for name, found in figures.items() if failed(found)]
    for name in errors:
        print(f"{name}: {figures[name]['error']}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
