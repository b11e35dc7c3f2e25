"""1b. Instructions per poll, counted by callgrind, against a bare aiohttp loop on the same loop.

CPU time on this shared VM comes in modes some 20% apart from one process and one minute to the
next (``polls.py``); a count of the instructions a process executes does not move with them. So
the same processes as ``polls.py``'s (``bench/client.py library``, ``python -m waiter`` and the
bare loop, on asyncio's loop and on uvloop's) run under ``valgrind --tool=callgrind``: once every
task has had its first poll and a warm-up more has passed, the counters are zeroed
(``callgrind_control -z``); once the server has counted :data:`Plan.instruction_polls` more
requests, they are dumped (``callgrind_control -d``). Instructions per poll are the dump's
total over the requests the server counted in between: start-up is left out, and a request in
flight at either edge is the only error (32 of some 1,500, either way).

Under callgrind a client runs some 50 times slower than it would, so the server answers at
once and each turn of the loop finds many answers ready; both kinds run in those conditions.
Skipped, with a note, where valgrind is not installed, and in a quick run. Target: <= 1.1x the
bare loop's.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import BenchError, Plan, started_server
from .polls import (
    BARE,
    CLI,
    CPU_TARGET,
    FIRST_POLLS_LIMIT_S,
    LIBRARY,
    count,
    first_polls,
    loops,
    polling_process,
)
from .report import Row, times

# valgrind's start-up and python's imports, 50 times slower than usual, come before any poll.
UNDER_CALLGRIND_S = 240.0
IN_FLIGHT = 32


def measure(plan: Plan) -> dict[str, Any]:
    if not plan.count_instructions:
        return {"skipped": "not in a quick run"}
    missing = [tool for tool in ("valgrind", "callgrind_control") if shutil.which(tool) is None]
    if missing:
        return {"skipped": f"{' and '.join(missing)} not installed"}
    found: dict[str, Any] = {
        "tasks": plan.instruction_tasks,
        "window_polls": plan.instruction_polls,
        "valgrind": version(),
    }
    for what, kind in (("library", LIBRARY), ("end_to_end", CLI)):
        found[what] = {}
        for loop in loops():
            bare, waiter = (counted(plan, each, loop) for each in (BARE, kind))
            found[what][loop] = {
                "waiter": waiter,
                "bare": bare,
                "ratio": waiter["instructions_per_poll"] / bare["instructions_per_poll"],
            }
    return found


def counted(plan: Plan, kind: str, loop: str) -> dict[str, Any]:
    """Instructions a poll of one process of ``kind`` on ``loop``, over a window of polls."""
    with tempfile.TemporaryDirectory() as directory, started_server() as server:
        ids = server.add_tasks("cg-", plan.instruction_tasks)
        dumps = Path(directory)
        wrapper = [
            "valgrind", "--tool=callgrind", "--dump-line=no",
            f"--callgrind-out-file={dumps / 'callgrind.out.%p'}",
        ]  # fmt: skip
        with polling_process(
            server, "cg-", ids, kind, loop, in_flight=IN_FLIGHT, seconds=3600, wrapper=wrapper
        ) as polling:
            pid = str(polling.process.pid)
            first_polls(server, polling, len(ids), limit_s=FIRST_POLLS_LIMIT_S + UNDER_CALLGRIND_S)
            time.sleep(plan.poll_warmup_s * 2)
            callgrind_control("-z", pid)
            start = count(server)[0]
            give_up = time.monotonic() + UNDER_CALLGRIND_S
            while (polls := count(server)[0] - start) < plan.instruction_polls:
                if time.monotonic() > give_up or polling.process.poll() is not None:
                    raise polling.died(f"made {polls} polls under callgrind")
                time.sleep(0.2)
            callgrind_control("-d", pid)
            polls = count(server)[0] - start
            instructions = summary(dumps / f"callgrind.out.{pid}.1")
    return {
        "polls": polls,
        "instructions": instructions,
        "instructions_per_poll": instructions / polls,
    }


def callgrind_control(option: str, pid: str) -> None:
    done = subprocess.run(
        ["callgrind_control", option, pid], capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"callgrind_control {option} {pid} failed: {done.stderr.strip()}")


def summary(dump: Path) -> int:
    """The instructions a callgrind dump counted (its ``summary:`` line)."""
    try:
        for line in dump.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("summary:"):
                return int(line.split()[1])
    except OSError as error:
        raise BenchError(f"no callgrind dump: {error}") from None
    raise BenchError(f"no summary line in {dump.name}")


def version() -> str:
    done = subprocess.run(["valgrind", "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


# --- the table ---------------------------------------------------------------------------------


def rows(found: dict[str, Any]) -> list[Row]:
    if "skipped" in found:
        return [Row("instructions per poll (callgrind)", "-", "-", "-", "-", None)]
    table: list[Row] = []
    for what, label in (("library", "library"), ("end_to_end", "python -m waiter")):
        for loop, pair in found[what].items():
            waiter, bare = pair["waiter"], pair["bare"]
            table.append(
                Row(
                    f"{label}, {loop}: instructions per poll (callgrind)",
                    f"{waiter['instructions_per_poll'] / 1000:.0f}k",
                    f"{bare['instructions_per_poll'] / 1000:.0f}k bare",
                    times(pair["ratio"]),
                    f"<= {CPU_TARGET}x",
                    pair["ratio"] <= CPU_TARGET,
                )
            )
    return table


def notes(found: dict[str, Any]) -> list[str]:
    if "skipped" in found:
        return [f"instructions: skipped, {found['skipped']}"]
    return [
        f"instructions: {found['valgrind']}, {found['tasks']} tasks, {IN_FLIGHT} in flight, "
        f"a window of {found['window_polls']} polls after the first poll of every task"
    ]
