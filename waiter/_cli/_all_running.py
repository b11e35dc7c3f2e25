"""``--all``: wait on every task KPS's running-tasks listing shows at start, besides those given.

The listing is made once the Waiter has started (credentials and project ID known), under the
run's deadline and signal handling. What it may end in, and what the command says:

- tasks listed: the given IDs first, then the listed ones not given;
- none listed and none given: one line saying so, and exit 0 (nothing to wait on is no failure);
- refused (401, 403) or failing three times in a row: one line naming what failed and the fix,
  the given tasks end as ``error`` without a poll, exit 4;
- the deadline passes: the given tasks end as ``timeout``, exit 3;
- a signal: the given tasks end as ``cancelled``, exit 130/143 (the run's own handling).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from .._config._settings import Settings, source_of
from .._engine._listing import MAX_LISTING_TRIES
from .._errors import (
    ApiError,
    AuthError,
    ConfigError,
    EndpointError,
    PermissionDenied,
    TransientError,
    WaiterError,
)
from .._event_log import EventLog
from .._redact import printable
from .._result import Outcome
from ._exit import EXIT_ERROR, EXIT_TIMEOUT

if TYPE_CHECKING:
    from .._waiter import Waiter

__all__ = ["Listed", "check_all_running", "with_running_tasks"]

# What a Waiter that ended before it could list (start-up ran out of time, stop()) exits with
# when no task was given to carry that outcome.
_ENDED_EXIT = {Outcome.TIMEOUT: EXIT_TIMEOUT, Outcome.ERROR: EXIT_ERROR}


def check_all_running(settings: Settings) -> None:
    """``--all`` reads KPS's running-tasks listing: with another task API it is bad usage."""
    if settings.api == "kps":
        return
    given_by = source_of(settings, "api")
    where = f" (from {given_by})" if given_by else ""
    raise ConfigError(
        f"--all needs KPS's running-tasks listing, and the task API is {settings.api}{where}: "
        "give the task IDs instead, or use --api kps"
    )


@dataclass(frozen=True)
class Listed:
    """What to wait on, and the exit code the listing decides when no task can say it."""

    task_ids: list[str]
    exit_code: int | None = None


async def with_running_tasks(
    waiter: Waiter,
    given: Sequence[str],
    *,
    deadline: float,
    timeout_s: float,
    log: EventLog,
    stderr: TextIO,
) -> Listed:
    """``given`` and the tasks the listing shows; ``deadline`` on the running loop's clock
    (``timeout_s`` seconds after the run began)."""
    try:
        async with asyncio.timeout_at(deadline):
            listed = await waiter.running_tasks()
    except TimeoutError:
        why = f"deadline of {timeout_s:g} s reached while the running tasks were listed (--all)"
        waiter._end_waits(Outcome.TIMEOUT, why)
        log.error("listing_failed", error=why, fix="raise --timeout, or give the task IDs")
        _say(stderr, f"waiter: {why}; nothing more was waited on")
        return Listed(list(given), EXIT_TIMEOUT)
    except ApiError as error:
        fix = _fix(error)
        waiter._end_waits(
            Outcome.ERROR, f"not waited on: --all could not list the running tasks ({error})"
        )
        log.error("listing_failed", error=str(error), fix=fix)
        _say(stderr, f"waiter: error: --all: the running-tasks listing failed: {error}; {fix}")
        return Listed(list(given), EXIT_ERROR)
    except WaiterError as error:
        # Ended before or while it listed: a signal (stop()), or start-up ran out of time. The
        # given tasks end the same way; with none given, the outcome still decides the code.
        outcome = waiter._ended[0] if waiter._ended else Outcome.CANCELLED
        if given:
            return Listed(list(given))
        if outcome is not Outcome.CANCELLED:  # a signal's exit code says enough
            _say(stderr, f"waiter: {error}")
        return Listed([], _ENDED_EXIT.get(outcome, EXIT_ERROR))
    task_ids = list(dict.fromkeys([*given, *listed]))
    if not task_ids:
        project_id = waiter._access.project_id if waiter._access else None
        log.info("no_running_tasks", project_id=project_id)
        _say(stderr, f"waiter: no running tasks in project {project_id}: nothing to wait on")
    return Listed(task_ids)


def _fix(error: ApiError) -> str:
    if isinstance(error, PermissionDenied):
        return (
            "grant the credentials kps:domainKeypairs:getrunningtask (kps::getRunningTask in "
            "identity policies), or give the task IDs instead of --all"
        )
    if isinstance(error, AuthError):
        return "fix the credentials: nothing was polled"
    if isinstance(error, EndpointError):
        return "this endpoint has no running-tasks listing: check --endpoint and --region"
    if isinstance(error, TransientError):
        return (
            f"it failed {MAX_LISTING_TRIES} times in a row: check --endpoint and the network, "
            "or try again later"
        )
    return "give the task IDs instead of --all"


def _say(stream: TextIO, line: str) -> None:
    """One line for the user; escaped, as it may quote a server. Lost if stderr is gone."""
    with suppress(OSError, ValueError):
        stream.write(printable(line) + "\n")
        stream.flush()
