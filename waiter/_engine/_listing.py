"""Reading a listing whole: every page, one after another, each request through the engine's
rate limit and credential gate.

The bulk rounds read the running and failed listings this way, and ``Waiter.running_tasks``
reads the running one once, to wait on every task it shows (the command line's ``--all``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from .._apis._base import BulkTaskApi, Listing, TaskStatus
from .._apis._task_ids import is_task_id
from .._errors import ApiError, BadAnswer, NotFound
from ._gate import CredentialGate
from ._limits import RequestLimiter

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["MAX_LISTING_TRIES", "read_listing", "running_task_ids"]

# Tries of the running listing before its fault is the answer: it decides what a run waits on,
# so a 503 now and then is retried, but an endpoint that keeps failing is said at once rather
# than waited out until the deadline.
MAX_LISTING_TRIES = 3


async def read_listing(
    api: BulkTaskApi, listing: Listing, limiter: RequestLimiter, gate: CredentialGate
) -> dict[str, TaskStatus]:
    """Every task on ``listing``, in its order, from as many pages as it takes."""
    found: dict[str, TaskStatus] = {}
    offset = 0
    while True:
        async with limiter.slot():
            call = functools.partial(api.fetch_page, listing, offset)
            page = await (call() if gate.open else gate.through(call))
        found.update(page.tasks)
        offset += len(page.tasks)
        if not page.tasks or offset >= page.total:
            return found


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
        return await read_listing(api, "running", engine.limiter, engine.gate)
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
