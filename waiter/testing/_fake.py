"""A simulated KPS task API: an aiohttp application serving scripted task timelines.

It powers ``python -m waiter --demo`` and the test suite, and listens on 127.0.0.1 only.
Each task follows a timeline of ``(seconds, what)`` steps, where ``what`` is a status string
or a :class:`Reply` (an HTTP error answer). Before its first step a task does not exist yet.
Answers of given requests can be scripted too (``replies={2: Reply(503)}`` answers a task's
second request with a 503), which is how tests inject faults into an otherwise normal run.
"""

from __future__ import annotations

import asyncio
import bisect
import email.utils
import heapq
import itertools
import json
import math
import re
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeAlias

from aiohttp import web

from .._auth._signing import utc_now, verify_signature
from .._http._errors import MAX_CLOCK_SKEW

__all__ = ["FakeKps", "Reply", "SeenRequest", "Step", "Timeline"]


@dataclass(frozen=True)
class Reply:
    """A scripted answer: Huawei's flat error body unless ``body`` gives raw bytes.

    ``hang`` never answers (until the client gives up); ``reset`` starts the answer, then drops
    the connection mid-body.
    """

    http_status: int = 200
    error_code: str | None = None
    error_msg: str = "simulated fault"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    hang: bool = False
    reset: bool = False


Step: TypeAlias = tuple[float, str | Reply]
"""One step of a task's timeline: from this many seconds on, the task answers this status (or
this :class:`Reply`). Added in 0.1.0."""

Timeline: TypeAlias = Sequence[Step]
"""A task's steps, in time order: ``[(0, "READY_RESET"), (5, Reply(503)), (9, "SUCCESS_RESET")]``.
Before its first step the task does not exist. Added in 0.1.0."""

# The gateway's limit on the distance between X-Sdk-Date and its own clock.
_SDK_DATE = "%Y%m%dT%H%M%SZ"
_ACCESS = re.compile(r"Access=([^,]+),")


@dataclass(frozen=True)
class SeenRequest:
    """A request as the server saw it, for tests to inspect."""

    task_id: str
    at: float
    headers: Mapping[str, str]


@dataclass
class _ScriptedTask:
    timeline: Timeline
    server_id: str | None
    replies: Mapping[int, Reply]
    zero: float | None = None  # clock reading the timeline counts from
    requests: int = 0


# Up to this many tasks joining or leaving a listing between two of its pages are put in place
# one by one (a binary search and a list insert or delete each, O(n) memory moves); more at
# once, as when thousands of tasks end together, and the order is sorted afresh instead.
_RESORT_FROM = 256


class _Listing:
    """The tasks one listing shows now, with their statuses, in task ID order.

    Kept up to date as tasks change status, so that a page costs what it holds: scanning and
    sorting every task for each page took ~0.4 s a page at 100,000 tasks.
    """

    def __init__(self) -> None:
        self.statuses: dict[str, str] = {}
        self._order: list[str] = []  # sorted task IDs; out of date by ``_changed``
        self._changed: set[str] = set()

    def __len__(self) -> int:
        return len(self.statuses)

    def show(self, task_id: str, status: str) -> None:
        if task_id not in self.statuses:
            self._changed.add(task_id)
        self.statuses[task_id] = status

    def hide(self, task_id: str) -> None:
        if self.statuses.pop(task_id, None) is not None:
            self._changed.add(task_id)

    def page(self, offset: int, limit: int) -> list[tuple[str, str]]:
        """``limit`` entries from ``offset``, sliced as a list of every entry would be."""
        self._catch_up()
        shown = self._order[offset : offset + limit]
        return [(task_id, self.statuses[task_id]) for task_id in shown]

    def _catch_up(self) -> None:
        changed, self._changed = self._changed, set()
        if len(changed) >= _RESORT_FROM:
            self._order = sorted(self.statuses)
            return
        order = self._order
        for task_id in changed:
            at = bisect.bisect_left(order, task_id)
            present = at < len(order) and order[at] == task_id
            if task_id in self.statuses and not present:
                order.insert(at, task_id)
            elif present and task_id not in self.statuses:
                del order[at]


def _first_moment(zero: float, at: float) -> float | None:
    """The earliest clock reading ``now`` with ``now - zero >= at``, the test that
    ``FakeKps._current_step`` makes; None if no reading passes it.

    ``zero + at`` itself may be off by a rounding either way, and a listing must change at
    exactly the reading a GET would.
    """
    moment = zero + at
    if math.isnan(moment) or moment == math.inf:
        return None
    if moment == -math.inf:
        return zero
    while moment - zero < at:
        moment = math.nextafter(moment, math.inf)
    while (earlier := math.nextafter(moment, -math.inf)) - zero >= at:
        moment = earlier
    return moment


class FakeKps:
    """The simulated KPS. ``token`` set: requests must carry it in ``X-Auth-Token``.

    ``access_keys`` set (access key -> secret key): requests must be signed with one of them
    (``SDK-HMAC-SHA256``), as the API gateway checks it, and answers its 401s on a bad
    signature, an unknown key, or an ``X-Sdk-Date`` more than 15 minutes from ``wall_clock``
    (default: the real UTC time; skew it to play a server whose clock differs). A key listed
    in ``security_tokens`` is temporary: its requests must carry that ``X-Security-Token``.
    With both ``token`` and ``access_keys``, a signed request is checked as signed and any
    other as a token request.

    ``clock`` defaults to the event loop's time, so the server and the client agree on time
    even when the tests' loop fast-forwards through waits. ``timelines_from_first_poll``
    starts each task's timeline at its first request instead of when serving starts, which
    makes timelines hold however long a client process takes to start.
    """

    def __init__(
        self,
        *,
        project_id: str = "demo-project",
        token: str | None = None,
        access_keys: Mapping[str, str] | None = None,
        security_tokens: Mapping[str, str] | None = None,
        wall_clock: Callable[[], datetime] | None = None,
        clock: Callable[[], float] | None = None,
        timelines_from_first_poll: bool = False,
    ) -> None:
        self.project_id = project_id
        self.token = token
        # Mutable on purpose: a test can revoke a key, or add a refreshed one, mid-run.
        self.access_keys = None if access_keys is None else dict(access_keys)
        self.security_tokens = dict(security_tokens or {})
        self._wall_clock = wall_clock or utc_now
        self._from_first_poll = timelines_from_first_poll
        self._clock = clock or (lambda: asyncio.get_running_loop().time())
        self._tasks: dict[str, _ScriptedTask] = {}
        self._serving_since: float | None = None
        self._request_ids = itertools.count(1)
        self.requests: list[SeenRequest] = []
        # Requests for running-tasks and failed-tasks, with the listing's name as task_id.
        self.listing_requests: list[SeenRequest] = []
        # When set, every listing request gets this answer (say, a 403 for want of permission).
        self.listing_reply: Reply | None = None
        # The listings as of the last listing request, and when each task's listing may change
        # next: (clock reading, tie-breaker, task ID), a step of its timeline each.
        self._listings: dict[str, _Listing] = {"running": _Listing(), "failed": _Listing()}
        self._moves: list[tuple[float, int, str]] = []
        self._move_order = itertools.count()
        self._deleted_failed: set[str] = set()

    def add_task(
        self,
        task_id: str,
        timeline: Timeline,
        *,
        server_id: str | None = None,
        replies: Mapping[int, Reply] | None = None,
    ) -> None:
        """Script a task. Step times count from now if serving, else from when serving starts."""
        # A server ID shaped like a real one (a UUID), stable for a given task ID.
        server_id = server_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"waiter-fake/{task_id}"))
        task = _ScriptedTask(list(timeline), server_id, replies or {})
        self._tasks[task_id] = task
        if self._serving_since is not None:
            self._start_timeline(task_id, task, self._clock())

    def delete_failed_task(self, task_id: str) -> None:
        """As KPS's DeleteFailedTask: the task leaves the failed-tasks listing for good; a GET
        still answers its status."""
        self._deleted_failed.add(task_id)
        self._listings["failed"].hide(task_id)

    def requests_for(self, task_id: str) -> list[SeenRequest]:
        return [request for request in self.requests if request.task_id == task_id]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v3/{project_id}/tasks/{task_id}", self._get_task)
        # Huawei's job API (--api ecs-job), from the same timelines.
        app.router.add_get("/v1/{project_id}/jobs/{task_id}", self._get_task)
        app.router.add_get("/v3/{project_id}/{listing:running|failed}-tasks", self._list_tasks)
        app.router.add_route("*", "/{tail:.*}", self._no_such_api)
        return app

    @asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Serve on ``host`` (a free port by default); yields the base URL."""
        # A short shutdown, so scripted hangs do not hold the server open when it closes.
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._serving_since = self._clock()
        for task_id, task in self._tasks.items():
            if task.zero is None:
                self._start_timeline(task_id, task, self._serving_since)
        try:
            bound_port = runner.addresses[0][1]
            shown_host = f"[{host}]" if ":" in host else host  # an IPv6 address needs brackets
            yield f"http://{shown_host}:{bound_port}"
        finally:
            await runner.cleanup()

    # --- handlers ------------------------------------------------------------------------------

    async def _get_task(self, request: web.Request) -> web.StreamResponse:
        task_id = request.match_info["task_id"]
        now = self._clock()
        self.requests.append(SeenRequest(task_id, now, dict(request.headers)))
        refused = self._refused(request)
        if refused is not None:
            return refused
        task = self._tasks.get(task_id)
        if task is None:
            return self._not_found(task_id)
        if task.requests == 0 and self._from_first_poll:
            self._start_timeline(task_id, task, now)
        task.requests += 1
        scripted = task.replies.get(task.requests)
        if scripted is not None:
            return await self._reply(request, scripted)
        current = self._current_step(task, now)
        if current is None:
            return self._not_found(task_id)
        if isinstance(current, Reply):
            return await self._reply(request, current)
        if "/jobs/" in request.path:
            return web.json_response(self._job(task_id, current, task), headers=self._request_id())
        body = {"task_id": task_id, "task_status": current, "server_id": task.server_id}
        return web.json_response(body, headers=self._request_id())

    @staticmethod
    def _job(task_id: str, status: str, task: _ScriptedTask) -> dict[str, object]:
        failed = status == "FAIL"
        return {
            "job_id": task_id,
            "job_type": "createServer",
            "status": status,
            "entities": {"server_id": task.server_id},
            "error_code": "Ecs.0000" if failed else None,
            "fail_reason": "simulated failure" if failed else None,
        }

    async def _list_tasks(self, request: web.Request) -> web.StreamResponse:
        """``running-tasks`` and ``failed-tasks``: tasks now RUNNING_* or FAILED_*, paged."""
        listing = request.match_info["listing"]
        now = self._clock()
        self.listing_requests.append(SeenRequest(listing, now, dict(request.headers)))
        refused = self._refused(request)
        if refused is not None:
            return refused
        if self.listing_reply is not None:
            return await self._reply(request, self.listing_reply)
        try:
            limit = min(int(request.query.get("limit", "1000")), 1000)
            offset = int(request.query.get("offset", "0"))
        except ValueError:
            return self._error(Reply(400, "KPS.0001", "limit and offset must be integers"))
        self._move_listed(now)
        shown = self._listings[listing]
        failed = listing == "failed"
        page = [
            self._listed(task_id, status, failed=failed)
            for task_id, status in shown.page(offset, limit)
        ]
        body = {"total": len(shown), "tasks": page}
        return web.json_response(body, headers=self._request_id())

    def _listed(self, task_id: str, status: str, *, failed: bool) -> dict[str, object]:
        entry: dict[str, object] = {
            "task_id": task_id,
            "operate_type": status,
            "task_time": "1523342130000",
            "server_id": self._tasks[task_id].server_id,
            "server_name": f"ecs-{task_id[:8]}",
            "keypair_name": "demo-keypair",
        }
        if failed:
            entry["task_error_code"] = "KPS.2003"
            entry["task_error_msg"] = "simulated failure: the server is not running"
        return entry

    def _refused(self, request: web.Request) -> web.StreamResponse | None:
        signed = "Authorization" in request.headers
        if self.access_keys is not None and (signed or self.token is None):
            problem = self._signature_problem(request)
            if problem is not None:
                return problem
        elif self.token is not None and request.headers.get("X-Auth-Token") != self.token:
            return self._error(Reply(401, "APIGW.0301", "Incorrect IAM authentication information"))
        if request.match_info["project_id"] != self.project_id:
            return self._error(Reply(403, "KPS.0004", "the project ID does not match the token"))
        return None

    def _signature_problem(self, request: web.Request) -> web.StreamResponse | None:
        """The gateway's 401 for a request whose signature it would refuse, else None."""
        assert self.access_keys is not None
        headers = request.headers
        now = self._wall_clock()

        def refuse(why: str) -> web.StreamResponse:
            # The gateway's Date is its own clock's: what lets a client see that it is off.
            date = email.utils.format_datetime(now.astimezone(UTC), usegmt=True)
            message = f"Incorrect IAM authentication information: {why}"
            return self._error(Reply(401, "APIGW.0301", message, headers={"Date": date}))

        access = _ACCESS.search(headers.get("Authorization", ""))
        if access is None:
            return refuse("Authorization header not found or not SDK-HMAC-SHA256")
        access_key = access.group(1)
        if access_key not in self.access_keys:
            return refuse(f"ak {access_key} not exist")
        try:
            sent = datetime.strptime(headers.get("X-Sdk-Date", ""), _SDK_DATE).replace(tzinfo=UTC)
        except ValueError:
            return refuse("x-sdk-date is missing or malformed")
        if abs(now - sent) > MAX_CLOCK_SKEW:
            return refuse(
                "calc aksk signature fail:signature expired, signature time:"
                f"{sent.strftime(_SDK_DATE)},server time:{now.astimezone(UTC).strftime(_SDK_DATE)}"
            )
        expected_token = self.security_tokens.get(access_key)
        if expected_token is not None and headers.get("X-Security-Token") != expected_token:
            return refuse("security token invalid or expired")
        url = f"{request.scheme}://{request.host}{request.raw_path}"
        if not verify_signature(
            request.method,
            url,
            headers,
            b"",
            self.access_keys.get,
            now=now,
            max_skew=MAX_CLOCK_SKEW,
        ):
            return refuse("verify aksk signature fail")
        return None

    async def _no_such_api(self, request: web.Request) -> web.StreamResponse:
        request_id = self._request_id()
        body = {
            "error_code": "APIGW.0101",
            "error_msg": "The API does not exist or has not been published in the environment",
            "request_id": request_id["X-Request-Id"],
        }
        return web.json_response(body, status=404, headers=request_id)

    # --- the listings ----------------------------------------------------------------------------

    def _start_timeline(self, task_id: str, task: _ScriptedTask, zero: float) -> None:
        """Count the task's timeline from ``zero``, and note when its listing may change."""
        task.zero = zero
        # At zero too: a timeline started afresh (a task added again, or re-zeroed by its first
        # poll) may be listed differently from the moment it starts.
        moments = [zero, *(_first_moment(zero, at) for at, _ in task.timeline)]
        for moment in moments:
            if moment is not None:
                heapq.heappush(self._moves, (moment, next(self._move_order), task_id))

    def _move_listed(self, now: float) -> None:
        """Bring the listings to ``now``: the tasks whose step has come since, each once."""
        due: set[str] = set()
        while self._moves and self._moves[0][0] <= now:
            due.add(heapq.heappop(self._moves)[2])
        for task_id in due:
            task = self._tasks.get(task_id)
            current = None if task is None else self._current_step(task, now)
            status = current if isinstance(current, str) else ""
            for name, prefix in (("running", "RUNNING_"), ("failed", "FAILED_")):
                listing = self._listings[name]
                deleted = name == "failed" and task_id in self._deleted_failed
                if status.startswith(prefix) and not deleted:
                    listing.show(task_id, status)
                else:
                    listing.hide(task_id)

    # --- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _current_step(task: _ScriptedTask, now: float) -> str | Reply | None:
        elapsed = now - (task.zero if task.zero is not None else now)
        current: str | Reply | None = None
        for at, what in task.timeline:
            if elapsed >= at:
                current = what
        return current

    async def _reply(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        if reply.hang:
            await asyncio.sleep(3600)
        if reply.reset:
            response = web.StreamResponse(status=reply.http_status, headers=self._request_id())
            response.content_length = 1000
            await response.prepare(request)
            await response.write(b'{"task_status": "RUNN')
            assert request.transport is not None
            request.transport.abort()
            return response
        return self._error(reply)

    def _not_found(self, task_id: str) -> web.StreamResponse:
        return self._error(Reply(400, "KPS.0001", f"task {task_id} does not exist"))

    def _error(self, reply: Reply) -> web.StreamResponse:
        headers = {**self._request_id(), **reply.headers}
        if reply.body is not None:
            return web.Response(status=reply.http_status, body=reply.body, headers=headers)
        body = {"error_code": reply.error_code, "error_msg": reply.error_msg}
        return web.Response(
            status=reply.http_status,
            text=json.dumps(body),
            content_type="application/json",
            headers=headers,
        )

    def _request_id(self) -> dict[str, str]:
        return {"X-Request-Id": f"fake-{next(self._request_ids):08d}"}
