"""What every measurement shares: the plan of a run, the bench server and the client processes."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
PYTHON = sys.executable
# No server outlives this, even if this process is killed before it can stop it.
SERVER_LIFETIME_S = 600.0
# Local requests to the bench server (task creation, statistics).
CONTROL_TIMEOUT_S = 60.0
# urllib would send loopback requests through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- the plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Sizes and durations of one run."""

    quick: bool
    poll_tasks: int = 1000
    poll_warmup_s: float = 1.0
    poll_window_s: float = 2.0
    # Pairs of samples (bare, then waiter) a polls figure: this VM's CPU time per poll comes in
    # modes some 20% apart, from one process to the next, for waiter and the bare loop alike,
    # and the median of five pairs' ratios leaves out the pairs that straddled a change.
    poll_repeats: int = 5
    # Instructions (callgrind; minutes, so not in a quick run): tasks, and the polls counted
    # after the first poll of each.
    count_instructions: bool = True
    instruction_tasks: int = 200
    instruction_polls: int = 1500
    # python -m waiter's whole life, start-up included: tasks, requests in flight, deadline.
    startup_tasks: int = 500
    startup_in_flight: int = 64
    startup_seconds: float = 6.0
    # (tasks, deadline, bulk). Short deadlines: the peak comes once every record exists and the
    # first round is under way (with bulk, once a round has held a whole listing), and the
    # whole run must stay within minutes.
    memory_runs: tuple[tuple[int, float, str], ...] = (
        (10_000, 12.0, "off"),
        (100_000, 20.0, "off"),
        (10_000, 12.0, "auto"),
        (100_000, 20.0, "auto"),
    )
    lag_tasks: int = 200
    lag_finish_s: tuple[float, float] = (1.0, 10.0)
    lag_min_interval: float = 0.5
    lag_max_interval: float = 2.0
    rate_tasks: int = 500
    rate_runs: tuple[tuple[float, float], ...] = ((20.0, 10.0), (50.0, 6.0))
    round_tasks: int = 5000
    round_window_s: float = 5.0  # bulk on; bulk off runs until two rounds are done
    round_off_limit_s: float = 25.0
    help_runs: int = 31  # start-up times are bimodal on a shared VM: many runs, median
    # Bulk cadence: of these tasks (--rate, defaults otherwise), this many end at random
    # moments between these seconds after creation; the rest run on until the deadline.
    bulk_lag_tasks: int = 5000
    bulk_lag_ending: int = 50
    bulk_lag_window: tuple[float, float] = (10.0, 70.0)
    bulk_lag_rate: float = 10.0
    # Mass endings: (tasks, "success" or "failure", seconds from creation to the ending), and
    # the --rate of those runs. The ending leaves time to start and list every task first.
    mass_runs: tuple[tuple[int, str, float], ...] = (
        (10_000, "success", 10.0),
        (100_000, "success", 20.0),
        (10_000, "failure", 10.0),
    )
    mass_rate: float = 2000.0


FULL = Plan(quick=False)
QUICK = Plan(
    quick=True,
    poll_repeats=1,
    count_instructions=False,
    memory_runs=((10_000, 8.0, "off"),),
    lag_tasks=50,
    lag_finish_s=(1.0, 4.0),
    rate_runs=((20.0, 5.0),),
    round_window_s=3.0,
    help_runs=5,
    bulk_lag_ending=20,
    bulk_lag_window=(8.0, 23.0),
    mass_runs=((10_000, "success", 8.0), (10_000, "failure", 8.0)),
)


# --- processes ---------------------------------------------------------------------------------


class BenchError(Exception):
    """A measurement could not be made; its figure is recorded as the error."""


def tail(text: str) -> str:
    """The end of a child's stderr, enough to say why it failed."""
    return text[-2000:]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every child: nothing of the user's waiter or cloud setup, no proxy.

    A user's config file, token or proxy would change what is measured, so they are dropped.
    """
    dropped = ("WAITER_", "HW_", "OS_", "HUAWEICLOUD_")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(dropped) and not name.lower().endswith("_proxy")
    }
    env["XDG_CONFIG_HOME"] = str(BENCH / "results" / "no-config")
    # Bytecode cached outside the source tree, as an installed package has it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(BENCH / "results" / "pycache")
    env.update(extra or {})
    return env


def run_quietly(argv: Sequence[str]) -> None:
    """Run ``argv`` from the repository root, output discarded; it must succeed."""
    subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env(), check=True,
        timeout=60, cwd=ROOT,
    )  # fmt: skip


def control(url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET (or POST ``body`` as JSON to) the bench server's control endpoint ``url``."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    request.add_header("Content-Type", "application/json")
    with _OPENER.open(request, timeout=CONTROL_TIMEOUT_S) as response:
        answer: dict[str, Any] = json.load(response)
    return answer


@dataclass
class Server:
    """A running ``bench/server.py``."""

    url: str
    project_id: str
    token: str

    def add_tasks(
        self,
        prefix: str,
        count: int,
        finish_after: Sequence[float | None] | None = None,
        finish_as: str = "SUCCESS_RESET",
    ) -> list[str]:
        """Create ``count`` tasks; their IDs, named as the server names them. Each is RUNNING,
        then ``finish_as`` after its ``finish_after`` entry (None: never)."""
        body = {
            "prefix": prefix,
            "count": count,
            "finish_after": None if finish_after is None else list(finish_after),
            "finish_as": finish_as,
        }
        control(f"{self.url}/_tasks", body)
        return [f"{prefix}{index:06d}" for index in range(count)]

    def stats(self, prefix: str | None = None) -> dict[str, Any]:
        query = "" if prefix is None else f"?prefix={prefix}"
        return control(f"{self.url}/_stats{query}")


@contextmanager
def started_server(*, from_first_poll: bool = False) -> Iterator[Server]:
    """A fresh server per measurement: no state, and no leftover tasks in its listings."""
    argv = [
        PYTHON, str(BENCH / "server.py"),
        "--lifetime", str(SERVER_LIFETIME_S), "--stop-on-stdin-eof",
    ]  # fmt: skip
    if from_first_poll:
        argv.append("--from-first-poll")
    with tempfile.TemporaryFile("w+") as errors:
        # stdin: a pipe never written to, closed when this process ends, which stops the server.
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=child_env(),
        )
        try:
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], 30.0)
            line = process.stdout.readline() if ready else ""
            if not line:
                errors.seek(0)
                raise BenchError(f"the bench server did not start: {tail(errors.read())}")
            yield Server(**json.loads(line))
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()


def run_client(mode: str, server: Server | None, *, limit_s: float, **options: Any) -> Any:
    """Run ``bench/client.py MODE`` and return the JSON it prints."""
    argv = [PYTHON, str(BENCH / "client.py"), mode]
    if server is not None:
        argv += ["--url", server.url, "--project-id", server.project_id, "--token", server.token]
    for name, value in options.items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=limit_s, env=child_env(), check=False
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"client {mode} ran over {limit_s:g} s") from None
    if done.returncode != 0:
        raise BenchError(f"client {mode} exited {done.returncode}: {tail(done.stderr)}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass
class CliRun:
    lines: list[tuple[float, str]]  # (time.time() when the line arrived, the line)
    exit_code: int
    stderr: str


def run_waiter_cli(
    server: Server, task_ids: Sequence[str], args: Sequence[str], *, limit_s: float
) -> CliRun:
    """``python -m waiter ARGS -`` with the IDs on stdin; stamps each stdout line on arrival."""
    argv = [
        PYTHON, "-m", "waiter",
        "--endpoint", server.url, "--project-id", server.project_id,
        "--output", "json", "--log-format", "json", "--log-level", "warning", "--no-progress",
        *args, "-",
    ]  # fmt: skip
    env = child_env({"WAITER_AUTH_TOKEN": server.token})
    lines: list[tuple[float, str]] = []
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True, env=env
        )
        assert process.stdin is not None
        assert process.stdout is not None
        stdout = process.stdout

        def read() -> None:
            for line in stdout:
                lines.append((time.time(), line))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        process.stdin.write("\n".join(task_ids) + "\n")
        process.stdin.close()
        try:
            exit_code = process.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise BenchError(f"python -m waiter ran over {limit_s:g} s") from None
        reader.join(timeout=10)
        errors.seek(0)
        return CliRun(lines, exit_code, errors.read())
