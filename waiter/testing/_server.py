"""The fake KPS as users serve it: on their event loop, or on a thread of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeAlias

from .._config._settings import Settings
from .._plan._plan import is_loopback
from ._fake import FakeKps, Reply, SeenRequest, Step, Timeline
from ._scenario import (
    DEFAULT_PROJECT_ID,
    check_project_id,
    check_replies,
    check_task_id,
    check_timeline,
    check_token,
)
from ._switch import timeline_now
from ._thread import served_on_a_thread

__all__ = [
    "FakeKpsServer",
    "Timelines",
    "bracketed",
    "check_loopback",
    "fake_kps",
    "fake_kps_in_thread",
    "serve_in_thread",
]

Timelines: TypeAlias = Mapping[str, Timeline]
"""Task IDs and their timelines, as :func:`fake_kps` takes them. Added in 0.1.0."""

# Sent by settings() when the server takes any token: the client refuses to run without one.
_ANY_TOKEN = "fake-kps-token"  # noqa: S105 - a placeholder, not a secret


# --- the server handle -------------------------------------------------------------------------


class FakeKpsServer:
    """A running simulated KPS, as :func:`fake_kps` and the ``fake_kps`` fixture yield it.

    ``url`` is its base URL, ``project_id`` the only project it knows, ``token`` the token it
    demands (``None``: any token). Safe to use from any thread.

    Added in 0.1.0.
    """

    def __init__(self, kps: FakeKps, url: str, loop: asyncio.AbstractEventLoop) -> None:
        self._kps = kps
        self._url = url
        self._loop = loop

    def __repr__(self) -> str:
        return f"FakeKpsServer(url={self._url!r}, project_id={self._kps.project_id!r})"

    @property
    def url(self) -> str:
        """The base URL, such as ``http://127.0.0.1:41234``: the ``endpoint`` setting."""
        return self._url

    @property
    def project_id(self) -> str:
        return self._kps.project_id

    @property
    def token(self) -> str | None:
        return self._kps.token

    @property
    def requests(self) -> list[SeenRequest]:
        """Every task request the server has seen so far, oldest first (a copy)."""
        return list(self._kps.requests)

    def requests_for(self, task_id: str) -> list[SeenRequest]:
        """The requests for one task, oldest first."""
        return [request for request in self.requests if request.task_id == task_id]

    def add_task(
        self,
        task_id: str,
        timeline: Timeline,
        *,
        server_id: str | None = None,
        replies: Mapping[int, Reply] | None = None,
    ) -> None:
        """Script a task whose timeline counts from now.

        ``replies`` answers given requests of this task with a fault instead (``{1: Reply(503)}``
        answers its first request with a 503). A malformed argument raises ``ValueError``.
        """
        task_id, steps, checked = _checked_task(task_id, timeline, replies)

        def add() -> None:
            self._kps.add_task(task_id, steps, server_id=server_id, replies=checked)

        self._on_loop(add)

    def settings(self, **overrides: Any) -> Settings:
        """:class:`waiter.Settings` aimed at this server; ``overrides`` set any other field.

        The token is this server's, or a placeholder when it takes any token.
        """
        values: dict[str, Any] = {
            "endpoint": self._url,
            "project_id": self._kps.project_id,
            "token": self._kps.token or _ANY_TOKEN,
        }
        values.update(overrides)
        return Settings(**values)

    def _on_loop(self, action: Callable[[], None]) -> None:
        # The simulated server belongs to its loop: from another thread, hand the change over.
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            action()
            return

        async def run() -> None:
            action()

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)


def _checked_task(
    task_id: object, timeline: Timeline, replies: Mapping[int, Reply] | None
) -> tuple[str, tuple[Step, ...], dict[int, Reply]]:
    task_id = check_task_id(task_id, "task ID")
    where = f"task {task_id!r}"
    return task_id, check_timeline(timeline, where), check_replies(replies or {}, where)


# --- serving -----------------------------------------------------------------------------------


@asynccontextmanager
async def fake_kps(
    tasks: Timelines | None = None,
    *,
    project_id: str = DEFAULT_PROJECT_ID,
    token: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> AsyncIterator[FakeKpsServer]:
    """Serve the simulated KPS on the running event loop until the block ends.

    ``tasks`` maps task IDs to timelines, counted from when the server starts. ``token`` set:
    requests must carry it in ``X-Auth-Token``. ``host`` must be a loopback address; ``port=0``
    picks a free port. Bad arguments raise ``ValueError`` before anything listens.

    >>> async with fake_kps({"t1": [(0, "RUNNING_RESET"), (5, "SUCCESS_RESET")]}) as kps:
    ...     results = await waiter.wait_for(["t1"], kps.settings())

    Added in 0.1.0.
    """
    kps = _make_kps(tasks, project_id=project_id, token=token, host=host, port=port)
    async with kps.serve(host, port) as url:
        yield FakeKpsServer(kps, bracketed(url, host), asyncio.get_running_loop())


@contextmanager
def fake_kps_in_thread(
    tasks: Timelines | None = None,
    *,
    project_id: str = DEFAULT_PROJECT_ID,
    token: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[FakeKpsServer]:
    """:func:`fake_kps` on a background thread with its own event loop, for any caller.

    Use it from synchronous tests, or from tests on an event loop of any framework: the server
    never competes with your loop. Everything is shut down when the block ends.

    Added in 0.1.0.
    """
    # Checked here, so a mistake raises in the caller's thread with the caller's traceback.
    kps = _make_kps(tasks, project_id=project_id, token=token, host=host, port=port)
    with serve_in_thread(kps, host, port) as server:
        yield server


@contextmanager
def serve_in_thread(
    kps: FakeKps, host: str = "127.0.0.1", port: int = 0
) -> Iterator[FakeKpsServer]:
    """Serve an already made :class:`FakeKps` on a thread of its own until the block ends."""
    with served_on_a_thread(kps.serve(host, port)) as thread:
        yield FakeKpsServer(kps, bracketed(thread.url, host), thread.loop)


def _make_kps(
    tasks: Timelines | None, *, project_id: str, token: str | None, host: str, port: int
) -> FakeKps:
    check_loopback(host)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be 0-65535 (0 picks a free port), got {port!r}")
    kps = FakeKps(
        project_id=check_project_id(project_id, "fake_kps()"),
        token=check_token(token, "fake_kps()"),
        clock=timeline_now,
    )
    for given_id, timeline in (tasks or {}).items():
        task_id, steps, _ = _checked_task(given_id, timeline, None)
        kps.add_task(task_id, steps)
    return kps


def check_loopback(host: str) -> None:
    """Refuse to serve anywhere but this machine: the fake must never be reachable from outside."""
    if not is_loopback(host):
        raise ValueError(
            f"host {host!r} is not a loopback address: the fake KPS listens only on "
            "127.0.0.1, ::1 or localhost"
        )


def bracketed(url: str, host: str) -> str:
    # FakeKps.serve writes the host as given; an IPv6 address needs brackets in a URL.
    if ":" not in host:
        return url
    port = url.rsplit(":", 1)[1]
    return f"http://[{host}]:{port}"
