"""The benchmark's client processes: each mode runs once and prints one JSON line on stdout.

``bench/run.py`` starts one process per measurement, so the client's CPU time and peak RSS
are its own, not the server's nor the orchestrator's. Modes:

* ``baseline``: import waiter (with its engine) and aiohttp, nothing else; peak RSS.
* ``library`` and ``bare``: poll RUNNING tasks as fast as allowed, ``--in-flight`` requests at
  once, until SIGTERM (or for ``--for`` seconds): through :class:`waiter.Waiter` (logging as the
  command line does in a pipeline, into /dev/null), or through a bare aiohttp loop doing the
  same GETs, which imports neither waiter nor a logger. ``bench/run.py`` measures both from
  outside, as it measures ``python -m waiter``. ``--profile FILE`` (library) writes a cProfile
  of the polling, to find hot spots.
* ``memory``: wait on N RUNNING tasks until the deadline; peak RSS and whether every task was
  reported exactly once.
* ``rounds``: wait on N RUNNING tasks for a window, then stop; the server's log does the
  counting.

``--user-agent UA`` makes a bare loop send the headers waiter's session sends (that
User-Agent, ``Accept``, ``Accept-Encoding``) besides ``X-Auth-Token``: the same GETs.

Only 127.0.0.1 is ever contacted: the URL comes from the bench server, and proxies are off.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import json
import os
import resource
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

    import waiter

IN_FLIGHT = 32
# A bare worker never polls more than this; the window ends it long before.
MAX_BARE_POLLS = 10_000_000
# How long stopping a wait may take before the client gives up on it.
STOP_GRACE_S = 60.0


@dataclass(frozen=True)
class Target:
    url: str
    project_id: str
    token: str
    user_agent: str = ""  # the bare loop's: waiter's, to send what waiter sends

    def task_ids(self, prefix: str, count: int) -> list[str]:
        return [f"{prefix}{index:06d}" for index in range(count)]

    def settings(self, **overrides: Any) -> waiter.Settings:
        import waiter

        return waiter.Settings(
            endpoint=self.url, project_id=self.project_id, token=self.token, **overrides
        )


# --- process measurements ----------------------------------------------------------------------


def peak_rss_kb() -> int:
    """The process's peak resident set (VmHWM), in KiB; ru_maxrss where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def import_waiter() -> None:
    """What every mode loads before it works: the baseline the memory figures are set against."""
    import aiohttp  # noqa: F401

    import waiter

    waiter.Waiter  # noqa: B018 - loads the engine and its HTTP client, as any wait would


def quiet_logs(token: str) -> None:
    """Log as the command line does in a pipeline (JSON at info), but into /dev/null.

    Unconfigured, structlog prints every event, debug included, to stdout: one line per poll,
    which is not how anyone runs a wait on many tasks.
    """
    from waiter._cli._logs import configure_logging  # private: the CLI's own log setup

    devnull = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    configure_logging(json=True, level="info", stream=devnull, secrets=[token])


# --- polls per second --------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    requests: int  # task requests the server has counted
    server_cpu: float  # the server process's CPU seconds
    wall: float
    cpu: float  # this process's


async def snapshot(control: aiohttp.ClientSession, target: Target) -> Snapshot:
    async with control.get(f"{target.url}/_count") as response:
        counted = await response.json()
    return Snapshot(counted["total"], counted["cpu_s"], time.perf_counter(), time.process_time())


async def library_process(
    target: Target, ids: Sequence[str], in_flight: int, seconds: float, profile: str | None
) -> dict[str, Any]:
    """:class:`waiter.Waiter` polling ``ids`` as fast as allowed, ``in_flight`` at once, until
    SIGTERM or ``seconds``: the library as an application drives it, measured from outside as
    the bare loop is. ``profile``: a cProfile of the process's polling, for finding hot spots."""
    import waiter

    settings = target.settings(
        max_in_flight=in_flight,
        rate=1_000_000.0,  # never the limit: this measures the engine, not the limiter's pacing
        min_interval=0.001,  # a task is due again almost at once, so workers are never idle
        max_interval=0.001,
        timeout=seconds or 24 * 3600.0,  # stopped by SIGTERM instead
        bulk="off",  # every poll is one task's GET, as in the bare loop
    )
    stop = stop_on_sigterm(seconds)
    profiler = cProfile.Profile() if profile else None
    async with waiter.Waiter(settings) as wait:
        drain = asyncio.create_task(count_results(wait.as_completed(ids)))
        if profiler:
            profiler.enable()
        await stop.wait()
        if profiler:
            profiler.disable()
        wait.stop("benchmark window over")
        outcomes = await asyncio.wait_for(drain, STOP_GRACE_S)
    if profiler and profile:
        profiler.dump_stats(profile)
    return {"outcomes": outcomes}


def stop_on_sigterm(seconds: float) -> asyncio.Event:
    """An event set by SIGTERM, or ``seconds`` from now (0: no end)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    if seconds > 0:
        loop.call_later(seconds, stop.set)
    return stop


def bare_session(in_flight: int, user_agent: str) -> aiohttp.ClientSession:
    """The bare loop's session: a pool as large as its workers, as waiter makes it, and, given
    waiter's User-Agent, the headers waiter's session sends, so that both make the same GETs
    (the server's work a request, and so its pace, the same for both)."""
    import aiohttp

    headers = None
    if user_agent:
        headers = {
            "User-Agent": user_agent,
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
        }
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight), headers=headers)


async def bare_worker(
    session: aiohttp.ClientSession,
    urls: Sequence[str],
    headers: dict[str, str],
    stop: asyncio.Event,
) -> int:
    polls = 0
    for url in itertools.cycle(urls):
        if stop.is_set() or polls >= MAX_BARE_POLLS:
            break
        async with session.get(url, headers=headers) as response:
            response.raise_for_status()
            document = await response.json()
        if not document["task_status"].startswith("RUNNING_"):
            raise RuntimeError(f"unexpected status {document['task_status']!r}")
        polls += 1
    return polls


async def count_results(results: AsyncGenerator[waiter.TaskResult, None]) -> dict[str, int]:
    outcomes: Counter[str] = Counter()
    async with aclosing(results):
        async for result in results:
            outcomes[result.outcome.value] += 1
    return dict(outcomes)


# --- memory --------------------------------------------------------------------------------------


async def memory(
    target: Target, prefix: str, count: int, deadline_s: float, settings_json: str
) -> dict[str, Any]:
    import waiter

    ids = target.task_ids(prefix, count)
    settings = target.settings(
        max_in_flight=IN_FLIGHT,
        rate=10_000.0,  # above what one core can poll: every task gets as many polls as it can
        timeout=deadline_s,
        **json.loads(settings_json),
    )
    # One byte a task, not a set of 100,000 strings: the check must not weigh on the figure.
    reported = bytearray(count)
    outcomes: Counter[str] = Counter()
    started, cpu = time.perf_counter(), time.process_time()
    async with (
        asyncio.timeout(deadline_s + STOP_GRACE_S),
        waiter.Waiter(settings) as wait,
        aclosing(wait.as_completed(ids)) as results,
    ):
        async for result in results:
            index = int(result.task_id.removeprefix(prefix))
            reported[index] = min(reported[index] + 1, 255)
            outcomes[result.outcome.value] += 1
    return {
        "tasks": count,
        "results": sum(outcomes.values()),
        "reported_once": reported.count(1),
        "outcomes": dict(outcomes),
        "elapsed_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
    }


# --- rounds --------------------------------------------------------------------------------------


async def rounds(
    target: Target, ids: Sequence[str], *, window: float, until: int, settings_json: str
) -> dict[str, Any]:
    import waiter

    overrides = json.loads(settings_json)
    settings = target.settings(max_in_flight=IN_FLIGHT, timeout=window + STOP_GRACE_S, **overrides)
    started = time.perf_counter()
    async with waiter.Waiter(settings) as wait:
        drain = asyncio.create_task(count_results(wait.as_completed(ids)))
        await run_until(target, window, until)
        wait.stop("benchmark window over")
        outcomes = await asyncio.wait_for(drain, STOP_GRACE_S)
    return {"outcomes": outcomes, "elapsed_s": time.perf_counter() - started}


async def run_until(target: Target, window: float, until: int) -> None:
    """Wait ``window`` seconds, or less once the server has counted ``until`` requests."""
    import aiohttp

    if until <= 0:
        await asyncio.sleep(window)
        return
    give_up = time.monotonic() + window
    async with aiohttp.ClientSession() as control:
        while time.monotonic() < give_up:
            if (await snapshot(control, target)).requests >= until:
                return
            await asyncio.sleep(0.25)


# --- the bare loop as a process of its own ------------------------------------------------------


async def bare_process(target: Target, ids: Sequence[str], in_flight: int, seconds: float) -> int:
    """:func:`bare_worker` s, ``in_flight`` of them, until SIGTERM or ``seconds`` (0: no end)."""

    base = f"{target.url}/v3/{target.project_id}/tasks/"
    urls = [base + task_id for task_id in ids]
    headers = {"X-Auth-Token": target.token}
    stop = stop_on_sigterm(seconds)
    async with bare_session(in_flight, target.user_agent) as session:
        workers = [
            asyncio.create_task(bare_worker(session, urls[n::in_flight], headers, stop))
            for n in range(in_flight)
        ]
        counts = await asyncio.gather(*workers)
    return sum(counts)


# --- command line --------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["baseline", "library", "bare", "memory", "rounds"])
    parser.add_argument("--url", default="")
    parser.add_argument("--project-id", default="")
    parser.add_argument("--token", default="")
    parser.add_argument("--prefix", default="task-")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--window", type=float, default=4.0)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--until", type=int, default=0, help="rounds: stop at this many requests")
    parser.add_argument("--settings", default="{}", help="more Settings fields, as JSON")
    parser.add_argument("--profile", help="library: write a cProfile of its polling here")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--in-flight", type=int, default=IN_FLIGHT, help="library, bare: at once")
    parser.add_argument(
        "--for", dest="seconds", type=float, default=0.0, help="library, bare: how long (0: ever)"
    )
    parser.add_argument("--user-agent", default="", help="bare: send waiter's headers, this UA")
    return parser.parse_args(argv)


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None


async def run_mode(args: argparse.Namespace) -> dict[str, Any]:
    target = Target(args.url, args.project_id, args.token, args.user_agent)
    if args.mode == "library":
        ids = target.task_ids(args.prefix, args.tasks)
        return await library_process(target, ids, args.in_flight, args.seconds, args.profile)
    if args.mode == "memory":
        return await memory(target, args.prefix, args.tasks, args.timeout, args.settings)
    ids = target.task_ids(args.prefix, args.tasks)
    return await rounds(
        target, ids, window=args.window, until=args.until, settings_json=args.settings
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.mode == "bare":
        # No waiter, no logging set-up: the least a process polling these tasks has to load.
        target = Target(args.url, args.project_id, args.token, args.user_agent)
        ids = target.task_ids(args.prefix, args.tasks)
        with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
            polls = runner.run(bare_process(target, ids, args.in_flight, args.seconds))
        print(json.dumps({"polls": polls}))
        return 0
    import_waiter()
    if args.mode == "baseline":
        report: dict[str, Any] = {}
    else:
        quiet_logs(args.token)
        with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
            report = runner.run(run_mode(args))
        report["loop"] = args.loop
    report["peak_rss_kb"] = peak_rss_kb()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
