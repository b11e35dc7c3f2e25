"""1. Polls per second and CPU time per poll, against a bare aiohttp loop on the same event loop.

Three comparisons of waiter against a bare aiohttp loop making the same GETs (one session, as
many workers as waiter has requests in flight, the same URLs and headers: ``X-Auth-Token`` and
the ``User-Agent``, ``Accept`` and ``Accept-Encoding`` waiter's session sends, so that the
server's work a request, and with it its pace, is the same for both), each on asyncio's loop
and on uvloop's separately, never one loop against the other:

* **library**: :class:`waiter.Waiter` in a process of its own (``bench/client.py library``:
  bulk off, 32 in flight, a rate it never reaches, 1 ms between polls of a task, 1,000 RUNNING
  tasks, logging as the command line does into /dev/null), against ``bench/client.py bare``,
  which imports neither waiter nor a logger.
* **end to end**: ``python -m waiter`` as a pipeline runs it (the same tasks and settings as
  flags, the IDs on stdin, the token from the environment, JSON results and JSON logs at info
  level into files), on the loop ``WAITER_EVENT_LOOP`` names, against the same bare process.
* **end to end, start-up included**: ``python -m waiter`` on 500 tasks with 64 in flight for
  its whole life (interpreter, imports, start-up, the wait to its deadline, every result
  printed) against a bare process polling as many tasks as long, on the command line's
  default loop (uvloop's when installed); CPU from the child's rusage.

The first two are measured from outside, alike: the process's CPU time from
``/proc/PID/stat`` over a window that starts once every task has had its first poll and a
warm-up more has passed, and the requests the server counted in it. CPU per poll is CPU time
over those requests.

This VM runs faster and slower from one minute to the next, by 20% and more, for every process
alike, and CPU time per poll moves with it. So each figure is measured in pairs, bare then
waiter, one right after the other, five of them; the table gives each kind's median and the
median of the pairs' ratios, with their range. (The best of each kind, as before, compared one
process's fast minute with another's slow one.) Setting each pair against the server's CPU
time per request, as a gauge of the machine's speed, was tried and dropped: a server waiting on
a slower client spends more CPU a request, so the gauge hid most of a slower client's cost (it
put the old poll path at 1.05x where callgrind counts 1.37x). ``instructions.py`` counts
instructions, which no speed changes: the precise figure for CPU per poll. Targets: polls/s
>= 0.9x the bare loop's, CPU per poll <= 1.1x.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import IO, Any

from .common import (
    BENCH,
    PYTHON,
    ROOT,
    BenchError,
    Plan,
    Server,
    child_env,
    control,
    started_server,
    tail,
)
from .report import Row, times

POLLS_TARGET = 0.9  # polls/s, at least this share of the bare loop's
CPU_TARGET = 1.1  # CPU per poll, at most this many times the bare loop's
# What waiter runs as, in each comparison; the bare loop goes first in every pair.
LIBRARY, CLI, BARE = "library", "cli", "bare"
# How long a process measured from outside may take to start polling every task once.
FIRST_POLLS_LIMIT_S = 60.0
STOP_LIMIT_S = 60.0


def loops() -> list[str]:
    """The loops to measure on: asyncio's, and uvloop's when it is installed."""
    return ["asyncio", "uvloop"] if importlib.util.find_spec("uvloop") else ["asyncio"]


def user_agent() -> str:
    """The User-Agent waiter sends, for the bare loop to send too."""
    return f"task-waiter/{version('task-waiter')}"


def default_loop() -> str:
    """The loop ``python -m waiter`` runs on unless told otherwise."""
    return loops()[-1]


# --- measuring ---------------------------------------------------------------------------------


def measure(plan: Plan) -> dict[str, Any]:
    library = {loop: compare(plan, lambda kind, loop=loop: window_sample(plan, kind, loop), LIBRARY)
               for loop in loops()}  # fmt: skip
    end_to_end = {loop: compare(plan, lambda kind, loop=loop: window_sample(plan, kind, loop), CLI)
                  for loop in loops()}  # fmt: skip
    loop = default_loop()
    whole_life = compare(plan, lambda kind: whole_life_sample(plan, kind, loop), CLI)
    return {
        "tasks": plan.poll_tasks,
        "in_flight": 32,
        "window_s": plan.poll_window_s,
        "pairs": plan.poll_repeats,
        "library": library,
        "end_to_end": end_to_end,
        "startup_included": {
            "loop": loop,
            "tasks": plan.startup_tasks,
            "in_flight": plan.startup_in_flight,
            "seconds": plan.startup_seconds,
            **whole_life,
        },
    }


def compare(plan: Plan, sample: Callable[[str], dict[str, Any]], kind: str) -> dict[str, Any]:
    """Pairs of samples, the bare loop's then waiter's (as ``kind``), one right after the other;
    the median of each kind's figures, and the median and range of the pairs' ratios."""
    pairs = [(sample(BARE), sample(kind)) for _ in range(plan.poll_repeats)]
    polls = [waiter["polls_per_s"] / bare["polls_per_s"] for bare, waiter in pairs]
    cpu = [waiter["cpu_per_poll_us"] / bare["cpu_per_poll_us"] for bare, waiter in pairs]
    return {
        "waiter": typical([waiter for _, waiter in pairs]),
        "bare": typical([bare for bare, _ in pairs]),
        "ratio_polls_per_s": statistics.median(polls),
        "ratio_polls_per_s_range": [min(polls), max(polls)],
        "ratio_cpu_per_poll": statistics.median(cpu),
        "ratio_cpu_per_poll_range": [min(cpu), max(cpu)],
        "pairs": [{"bare": bare, "waiter": waiter} for bare, waiter in pairs],
    }


def typical(samples: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The median of each figure of ``samples``."""
    return {
        name: statistics.median(sample[name] for sample in samples)
        for name in samples[0]
        if name != "polls"
    }


def window_sample(plan: Plan, kind: str, loop: str) -> dict[str, Any]:
    """A process measured from outside over a window: once it has polled every task, and a
    warm-up more, from one reading of its CPU time and the server's count to the next."""
    with started_server() as server:
        ids = server.add_tasks("e2e-", plan.poll_tasks)
        seconds = FIRST_POLLS_LIMIT_S + plan.poll_warmup_s + plan.poll_window_s + 60
        with polling_process(
            server, "e2e-", ids, kind, loop, in_flight=32, seconds=seconds
        ) as process:
            first_polls(server, process, len(ids))
            time.sleep(plan.poll_warmup_s)
            start = reading(server, process)
            time.sleep(plan.poll_window_s)
            end = reading(server, process)
    polls, wall, cpu = end.requests - start.requests, end.wall - start.wall, end.cpu - start.cpu
    return {
        **per_poll(polls, wall, cpu),
        "server_cpu_share": (end.server_cpu - start.server_cpu) / wall,
        "client_cpu_share": cpu / wall,
    }


def whole_life_sample(plan: Plan, kind: str, loop: str) -> dict[str, Any]:
    """A process's whole life: from before the interpreter starts to after it exits."""
    with started_server() as server:
        ids = server.add_tasks("life-", plan.startup_tasks)
        before = count(server)[0]
        used_before = children_cpu_s()
        started = time.perf_counter()
        with polling_process(
            server,
            "life-",
            ids,
            kind,
            loop,
            in_flight=plan.startup_in_flight,
            seconds=plan.startup_seconds,
        ) as process:
            finished(process, plan.startup_seconds + STOP_LIMIT_S)
        wall = time.perf_counter() - started
        cpu = children_cpu_s() - used_before
        polls = count(server)[0] - before
    return per_poll(polls, wall, cpu)


def per_poll(polls: int, wall: float, cpu: float) -> dict[str, Any]:
    """A sample's figures: ``polls`` the server counted in ``wall`` seconds, ``cpu`` used."""
    return {
        "polls": polls,
        "wall_s": wall,
        "cpu_s": cpu,
        "polls_per_s": polls / wall,
        "cpu_per_poll_us": 1e6 * cpu / max(polls, 1),
    }


# --- the processes -----------------------------------------------------------------------------


@dataclass
class Polling:
    """A polling process started by :func:`polling_process`."""

    kind: str
    process: subprocess.Popen[str]
    stderr: IO[str]

    def died(self, what: str) -> BenchError:
        self.stderr.seek(0)
        return BenchError(f"{self.kind} process {what}: {tail(self.stderr.read())}")


@contextlib.contextmanager
def polling_process(
    server: Server,
    prefix: str,
    ids: Sequence[str],
    kind: str,
    loop: str,
    *,
    in_flight: int,
    seconds: float,
    wrapper: Sequence[str] = (),
) -> Iterator[Polling]:
    """A process polling ``ids`` (the server's, named ``prefix`` + number) with ``in_flight``
    requests at once for ``seconds`` at most: ``python -m waiter`` (kind ``cli``),
    ``bench/client.py library`` or ``bench/client.py bare``, its command line after
    ``wrapper`` (valgrind's, say); stopped with SIGTERM on the way out unless it ended."""
    env, stdin = child_env(), ""
    if kind == CLI:
        argv = [
            PYTHON, "-m", "waiter",
            "--endpoint", server.url, "--project-id", server.project_id,
            "--bulk", "off", "--max-in-flight", str(in_flight), "--rate", "1000000",
            "--min-interval", "0.001", "--max-interval", "0.001", "--timeout", f"{seconds:g}",
            "--output", "json", "--log-format", "json", "--log-level", "info", "--no-progress",
            "-",
        ]  # fmt: skip
        env = child_env({"WAITER_AUTH_TOKEN": server.token, "WAITER_EVENT_LOOP": loop})
        stdin = "".join(f"{task_id}\n" for task_id in ids)
    else:
        argv = [
            PYTHON, str(BENCH / "client.py"), kind, "--loop", loop,
            "--url", server.url, "--project-id", server.project_id, "--token", server.token,
            "--prefix", prefix, "--tasks", str(len(ids)),
            "--in-flight", str(in_flight), "--for", f"{seconds:g}",
            "--user-agent", user_agent(),
        ]  # fmt: skip
    argv = [*wrapper, *argv]
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,  # results, as a pipeline's next step would take them
            stderr=stderr,  # the logs
            text=True,
            env=env,
            cwd=ROOT,  # python -m waiter imports the waiter of this tree, wherever it is run from
        )
        polling = Polling(kind, process, stderr)
        try:
            assert process.stdin is not None
            process.stdin.write(stdin)
            process.stdin.close()
            yield polling
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_LIMIT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise polling.died("did not stop on SIGTERM") from None


def first_polls(
    server: Server, polling: Polling, tasks: int, limit_s: float = FIRST_POLLS_LIMIT_S
) -> None:
    """Wait until the server has seen as many requests as there are tasks."""
    give_up = time.monotonic() + limit_s
    while count(server)[0] < tasks:
        if polling.process.poll() is not None:
            raise polling.died(f"exited {polling.process.returncode} before it polled")
        if time.monotonic() > give_up:
            raise polling.died(f"did not poll {tasks} tasks within {limit_s:g} s")
        time.sleep(0.05)


def finished(polling: Polling, limit_s: float) -> None:
    """Wait for a process that ends by itself: waiter at its deadline (exit 3), bare at 0."""
    try:
        code = polling.process.wait(timeout=limit_s)
    except subprocess.TimeoutExpired:
        raise polling.died(f"ran over {limit_s:g} s") from None
    if code != (3 if polling.kind == CLI else 0):  # the command line's deadline: exit 3
        raise polling.died(f"exited {code}")


@dataclass(frozen=True)
class Reading:
    requests: int  # task requests the server has counted
    server_cpu: float  # the server process's CPU seconds
    cpu: float  # the measured process's
    wall: float


def reading(server: Server, polling: Polling) -> Reading:
    if polling.process.poll() is not None:
        raise polling.died(f"exited {polling.process.returncode} while measured")
    cpu = process_cpu_s(polling.process.pid)
    requests, server_cpu = count(server)
    return Reading(requests, server_cpu, cpu, time.perf_counter())


def count(server: Server) -> tuple[int, float]:
    counted = control(f"{server.url}/_count")
    return int(counted["total"]), float(counted["cpu_s"])


def process_cpu_s(pid: int) -> float:
    """A running process's CPU time (user and system, every thread), from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError as error:
        raise BenchError(f"no CPU time for process {pid}: {error}") from None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


# --- the table ---------------------------------------------------------------------------------


def rows(polls: dict[str, Any]) -> list[Row]:
    found: list[Row] = []
    for loop, pair in polls["library"].items():
        found += pair_rows(f"library, {loop}", pair)
    for loop, pair in polls["end_to_end"].items():
        found += pair_rows(f"python -m waiter, {loop}", pair)
    life = polls["startup_included"]
    found += pair_rows(
        f"python -m waiter, {life['loop']}, start-up included "
        f"({life['tasks']} tasks, {life['in_flight']} in flight)",
        life,
    )
    return found


def pair_rows(label: str, pair: dict[str, Any]) -> list[Row]:
    waiter, bare = pair["waiter"], pair["bare"]
    ratio_polls, ratio_cpu = pair["ratio_polls_per_s"], pair["ratio_cpu_per_poll"]
    return [
        Row(
            f"{label}: polls/s",
            f"{waiter['polls_per_s']:.0f}",
            f"{bare['polls_per_s']:.0f} bare",
            ranged(ratio_polls, pair["ratio_polls_per_s_range"]),
            f">= {POLLS_TARGET}x",
            ratio_polls >= POLLS_TARGET,
        ),
        Row(
            f"{label}: CPU per poll",
            f"{waiter['cpu_per_poll_us']:.0f} us",
            f"{bare['cpu_per_poll_us']:.0f} us bare",
            ranged(ratio_cpu, pair["ratio_cpu_per_poll_range"]),
            f"<= {CPU_TARGET}x",
            ratio_cpu <= CPU_TARGET,
        ),
    ]


def ranged(median: float, extremes: Sequence[float]) -> str:
    """The median ratio of the pairs, and their range: ``1.04x (0.97-1.12)``."""
    low, high = extremes
    return f"{times(median)} ({low:.2f}-{high:.2f})" if high > low else times(median)


def notes(polls: dict[str, Any]) -> list[str]:
    found = [
        f"polls: {polls['pairs']} pairs a figure (bare, then waiter); waiter and bare are each "
        "kind's median, the ratio the median of the pairs' ratios, their range in brackets"
    ]
    for what, by_loop in (("library", polls["library"]), ("end to end", polls["end_to_end"])):
        for loop, pair in by_loop.items():
            waiter, bare = pair["waiter"], pair["bare"]
            found.append(
                f"polls, {what}, {loop}: the server used {waiter['server_cpu_share']:.0%} "
                f"(waiter) / {bare['server_cpu_share']:.0%} (bare) of a core, the client "
                f"{waiter['client_cpu_share']:.0%} / {bare['client_cpu_share']:.0%} (medians); "
                "near 100% marks the bottleneck"
            )
    if len(loops()) == 1:
        found.append("polls: uvloop is not installed, so only asyncio's loop was measured")
    found.append(f"polls: python {sys.version.split()[0]}; CPU per poll is user + system time")
    return found
