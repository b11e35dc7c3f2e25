"""Reading a listing whole: every page, one after another, each request through the engine's
rate limit and credential gate.

The bulk rounds read the running and failed listings this way, and ``Waiter.running_tasks``
reads the running one once, to wait on every task it shows (the command line's ``--all``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NamedTuple

from .._apis._base import BulkTaskApi, Listing, TaskStatus
from .._apis._task_ids import is_task_id
from .._errors import ApiError, BadAnswer, NotFound

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["MAX_LISTING_TRIES", "Listed", "read_listing", "running_task_ids"]

# Tries of the running listing before its fault is the answer: it decides what a run waits on,
# so a 503 now and then is retried, but an endpoint that keeps failing is said at once rather
# than waited out until the deadline.
MAX_LISTING_TRIES = 3


class Listed(NamedTuple):
    """A listing read whole: its tasks, in its order, and the requests that took."""

    tasks: dict[str, TaskStatus]
    requests: int


async def read_listing(engine: Engine, api: BulkTaskApi, listing: Listing) -> Listed:
    """Every task on ``listing``, from as many pages as it takes, each through the engine's
    rate limit and credential gate. A 429 slows the shared rate, as a poll's does."""
    limiter, gate, clock = engine.limiter, engine.gate, engine.clock
    found: dict[str, TaskStatus] = {}
    offset = requests = 0
    while True:
        async with limiter.slot():
            requests += 1
            sent_at = clock.now()
            call = functools.partial(api.fetch_page, listing, offset)
            try:
                page = await (call() if gate.open else gate.through(call))
            except ApiError as error:
                if error.http_status == 429:
                    limiter.throttled(sent_at)
                raise
        found.update(page.tasks)
        offset += len(page.tasks)
        if not page.tasks or offset >= page.total:
            return Listed(found, requests)


async def running_task_ids(engine: Engine, api: BulkTaskApi, project_id: str | None) -> list[str]:
    """The IDs on the running listing now, for a run to wait on; logs ``tasks_listed``.

    A fault worth retrying (throttling, 5xx, unreachable, an unreadable page) is retried on the
    wait schedule, up to MAX_LISTING_TRIES reads in all; any other (401, 403) is raised at once.
    An ID outside the task ID alphabet is left out (it could not be polled safely) and counted.
    """
    for attempt in range(1, MAX_LISTING_TRIES + 1):
        try:
            listed = await _read_running(engine, api)
            break
        except ApiError as error:
            if not _retried(error) or attempt == MAX_LISTING_TRIES:
                raise
            wait = max(engine.schedule.wait(attempt), error.retry_after or 0.0)
            engine.log.info(
                "retry_scheduled",
                listing="running",
                attempt=attempt,
                http_status=error.http_status,
                error_code=error.code,
                request_id=error.request_id,
                error=error.message,
                wait_s=round(wait, 3),
            )
            await engine.clock.sleep(wait)
    ids = [task_id for task_id in listed if is_task_id(task_id)]
    skipped = len(listed) - len(ids)
    log = engine.log.warning if skipped else engine.log.info
    log("tasks_listed", listing="running", project_id=project_id, tasks=len(ids), skipped=skipped)
    return ids


async def _read_running(engine: Engine, api: BulkTaskApi) -> dict[str, TaskStatus]:
    try:
        return (await read_listing(engine, api, "running")).tasks
    except ApiError:
        raise
    except Exception as error:
        # A page the client could not make sense of (nesting too deep for the parser, say) is
        # an unreadable answer like any other.
        engine.log.debug("listing_unreadable", exc_info=True)
        raise BadAnswer(f"unreadable listing: {type(error).__name__}") from error


def _retried(error: ApiError) -> bool:
    # A listing that is "not found" is no task that may yet appear: the endpoint has no listing.
    return error.retryable and not isinstance(error, NotFound)
