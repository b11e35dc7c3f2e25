"""The benchmark's simulated KPS, in a process of its own, with request statistics.

It serves waiter's own simulated KPS (:class:`waiter.testing._fake.FakeKps`), so the task API is the
one the test suite trusts, bulk listings (``running-tasks``, ``failed-tasks``) included, and
adds, through one middleware:

* ``POST /_tasks`` ``{"prefix": "t-", "count": 1000, "finish_after": [1.5, ...] | null,
  "finish_as": "SUCCESS_RESET"}`` creates ``count`` tasks named ``{prefix}{index:06d}``. Each
  is ``RUNNING_RESET`` and, when ``finish_after`` gives its entry (``null``: never), ends in
  ``finish_as`` (``SUCCESS_RESET`` or ``FAILED_RESET``) that many seconds after its timeline's
  zero: its creation, or with ``--from-first-poll`` its first ``GET`` (FakeKps's
  ``timelines_from_first_poll``, which holds however long a client takes to start).
* ``GET /_count``: task requests served so far, and the server's own CPU seconds; cheap enough
  for a client to read at the edges of its measurement window.
* ``GET /_stats[?prefix=P]``: status requests per whole second of ``time.time()``, by kind
  (``task`` for ``GET .../tasks/{id}``, ``running-tasks`` and ``failed-tasks`` for the bulk
  listings), listing passes (listing requests at offset 0) and, with ``prefix``, per task: its
  GET count, first GET and first-terminal time (timeline zero + ``finish_after``).

Every time is ``time.time()``, so a client process on the same machine can compare its own
clock with the server's. Run it alone with::

    python bench/server.py [--port 0] [--tasks N [--finish-after S]] [--from-first-poll]

It prints one JSON line ``{"url": ..., "project_id": ..., "token": ...}`` once it listens on
127.0.0.1, and stops on SIGINT/SIGTERM, after ``--lifetime`` seconds, or with
``--stop-on-stdin-eof`` when its stdin closes, so a benchmark that dies cannot leave it running.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Private, on purpose: waiter.testing's servers keep time on the event loop's clock and cannot
# start timelines at the first poll; the bench needs wall-clock times and that option.
from waiter.testing._fake import FakeKps

PROJECT_ID = "bench-project"
TOKEN = "bench-token"  # the fake's only accepted X-Auth-Token; not a secret
RUNNING, SUCCEEDED, FAILED = "RUNNING_RESET", "SUCCESS_RESET", "FAILED_RESET"
LIST_KINDS = ("running-tasks", "failed-tasks")
# A benchmark asks for at most this many tasks at once; more is a mistake, not a workload.
MAX_TASKS = 1_000_000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request_kind(path: str) -> str | None:
    """``task``, a listing's name, or None for a path that is no status request (a 404)."""
    parts = path.strip("/").split("/")
    if len(parts) == 4 and parts[0] == "v3" and parts[2] == "tasks":
        return "task"
    if len(parts) == 3 and parts[0] == "v3" and parts[2] in LIST_KINDS:
        return parts[2]
    return None


@dataclass
class Stats:
    """What the server saw, kept as counters so a million requests cost a few dicts."""

    from_first_poll: bool
    total: int = 0
    per_second: Counter[int] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    list_passes: Counter[str] = field(default_factory=Counter)
    gets: Counter[str] = field(default_factory=Counter)
    first_get: dict[str, float] = field(default_factory=dict)
    created: dict[str, float] = field(default_factory=dict)
    finish_after: dict[str, float] = field(default_factory=dict)

    def record(self, request: web.Request, now: float) -> None:
        kind = request_kind(request.path)
        if kind is None:
            return
        self.total += 1
        self.per_second[int(now)] += 1
        self.by_kind[kind] += 1
        if kind in LIST_KINDS:
            if request.query.get("offset", "0") == "0":
                self.list_passes[kind] += 1
            return
        task_id = request.match_info.get("task_id", "")
        self.gets[task_id] += 1
        self.first_get.setdefault(task_id, now)

    def terminal_at(self, task_id: str) -> float | None:
        """When the task's timeline reached its end, if it has a zero and an end."""
        zero = (self.first_get if self.from_first_poll else self.created).get(task_id)
        finish = self.finish_after.get(task_id)
        return None if zero is None or finish is None else zero + finish

    def report(self, prefix: str | None) -> dict[str, Any]:
        report: dict[str, Any] = {
            "total": self.total,
            "per_second": {str(second): n for second, n in sorted(self.per_second.items())},
            "by_kind": dict(self.by_kind),
            "list_passes": dict(self.list_passes),
            "cpu_s": time.process_time(),
        }
        if prefix is not None:
            report["tasks"] = {
                task_id: {
                    "gets": self.gets[task_id],
                    "first_get": self.first_get.get(task_id),
                    "terminal_at": self.terminal_at(task_id),
                }
                for task_id in self.created
                if task_id.startswith(prefix)
            }
        return report


class BenchKps(FakeKps):
    """FakeKps plus the control endpoints and the counting middleware."""

    def __init__(self, *, from_first_poll: bool) -> None:
        super().__init__(
            project_id=PROJECT_ID,
            token=TOKEN,
            clock=self._time,
            timelines_from_first_poll=from_first_poll,
        )
        # Set while add_tasks runs: the tasks of one call share one zero, so those meant to end
        # together do (creating 100,000 takes a second or two), at the time the stats give.
        self._frozen: float | None = None
        self.stats = Stats(from_first_poll)
        self._control: dict[tuple[str, str], Handler] = {
            ("POST", "/_tasks"): self._add_tasks,
            ("GET", "/_count"): self._count,
            ("GET", "/_stats"): self._stats,
        }

    def app(self) -> web.Application:
        app = super().app()
        # FakeKps's catch-all route matches every path, so the control endpoints are served
        # from the middleware, which runs for every request whatever route matched.
        app.middlewares.append(self._middleware)
        return app

    def add_tasks(
        self,
        prefix: str,
        count: int,
        finish_after: Sequence[float | None] | None,
        finish_as: str = SUCCEEDED,
    ) -> None:
        now = self._frozen = time.time()
        try:
            for index in range(count):
                task_id = f"{prefix}{index:06d}"
                timeline: list[tuple[float, str]] = [(0.0, RUNNING)]
                finish = None if finish_after is None else finish_after[index]
                if finish is not None:
                    self.stats.finish_after[task_id] = finish
                    timeline.append((finish, finish_as))
                self.add_task(task_id, timeline)  # serving: its timeline counts from now
                self.stats.created[task_id] = now
        finally:
            self._frozen = None

    def _time(self) -> float:
        return time.time() if self._frozen is None else self._frozen

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        control = self._control.get((request.method, request.path))
        if control is not None:
            return await control(request)
        self.stats.record(request, time.time())
        try:
            return await handler(request)
        finally:
            # FakeKps keeps every request with its headers for tests to inspect; the bench
            # counts them instead, so a long run does not grow the server by 1 KB a request.
            self.requests.clear()
            self.listing_requests.clear()

    async def _add_tasks(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        prefix, count, finish_after = body["prefix"], body["count"], body.get("finish_after")
        finish_as = body.get("finish_as", SUCCEEDED)
        if not isinstance(count, int) or not 0 < count <= MAX_TASKS:
            raise web.HTTPBadRequest(text=f"count must be 1-{MAX_TASKS}")
        if finish_after is not None and len(finish_after) != count:
            raise web.HTTPBadRequest(text="finish_after needs one entry a task")
        if finish_as not in (SUCCEEDED, FAILED):
            raise web.HTTPBadRequest(text=f"finish_as must be {SUCCEEDED} or {FAILED}")
        self.add_tasks(str(prefix), count, finish_after, finish_as)
        return web.json_response({"created": count})

    async def _count(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"total": self.stats.total, "cpu_s": time.process_time()})

    async def _stats(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.stats.report(request.query.get("prefix")))


async def serve(kps: BenchKps, port: int, lifetime: float, *, stdin_eof_stops: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if stdin_eof_stops:
        # The parent holds our stdin open and never writes: EOF means it has gone, however.
        def on_stdin() -> None:
            if not os.read(sys.stdin.fileno(), 4096):
                stop.set()

        loop.add_reader(sys.stdin.fileno(), on_stdin)
    async with kps.serve("127.0.0.1", port) as url:
        ready = {"url": url, "project_id": PROJECT_ID, "token": TOKEN}
        print(json.dumps(ready), flush=True)  # the parent waits for this line
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=lifetime)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The benchmark's simulated KPS.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks one")
    parser.add_argument("--tasks", type=int, default=0, help="tasks to create at start")
    parser.add_argument("--prefix", default="task-", help="task ID prefix for --tasks")
    parser.add_argument(
        "--finish-after", type=float, help="seconds to SUCCESS for --tasks (default: never)"
    )
    parser.add_argument(
        "--from-first-poll", action="store_true", help="timelines start at each task's first GET"
    )
    parser.add_argument(
        "--lifetime", type=float, default=900.0, help="stop by itself after this many seconds"
    )
    parser.add_argument(
        "--stop-on-stdin-eof", action="store_true", help="stop when stdin closes (parent gone)"
    )
    args = parser.parse_args(argv)
    kps = BenchKps(from_first_poll=args.from_first_poll)
    if args.tasks:
        finish = None if args.finish_after is None else [args.finish_after] * args.tasks
        kps.add_tasks(args.prefix, args.tasks, finish)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(kps, args.port, args.lifetime, stdin_eof_stops=args.stop_on_stdin_eof))
    return 0


if __name__ == "__main__":
    sys.exit(main())
