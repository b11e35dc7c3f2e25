"""The run invariant under random faults: hypothesis scripts the server, the log sink and the
caller, and every run must still report each task exactly once, by the deadline (or at once
after stop()), without an exception escaping.

Each example serves the simulated KPS on 127.0.0.1 and runs on the virtual-time loop, so a
script of minutes takes milliseconds and reads the same on a busy machine.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from helpers import fake_kps, settings_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from virtual_time import run_virtual

from waiter import Outcome, TaskResult, Waiter
from waiter.testing._fake import Reply

RUNNING, DONE, FAILED = "RUNNING_RESET", "SUCCESS_RESET", "FAILED_RESET"

# Answers a request can get instead of the task's status.
FAULTS = {
    "throttled": Reply(429, "APIGW.0308", headers={"Retry-After": "3"}),
    "server error": Reply(500, "SYS.0500"),
    "bad gateway": Reply(502),
    "reset": Reply(reset=True),
    "hang": Reply(hang=True),
    "proxy page": Reply(200, body=b"<html>proxy</html>"),
    "nested too deep": Reply(200, body=b"[" * 50_000 + b"]" * 50_000),
    "not found": Reply(404),
    "forbidden": Reply(403, "KPS.0403", "denied"),
    "refused": Reply(401, "APIGW.0301", "Incorrect IAM authentication information"),
    "odd status": Reply(200, body=b'{"task_status": "PAUSED_RESET"}'),
}
# How a task's own timeline ends (when the faults let it be seen).
ENDINGS = {"succeeds": DONE, "fails": FAILED, "runs on": RUNNING}


@dataclass
class TaskScript:
    faults: dict[int, str]  # request number -> fault name
    ends_at: float
    ending: str


@st.composite
def task_scripts(draw: st.DrawFn) -> TaskScript:
    faults = draw(st.dictionaries(st.integers(1, 8), st.sampled_from(sorted(FAULTS)), max_size=4))
    return TaskScript(faults, draw(st.floats(0, 40)), draw(st.sampled_from(sorted(ENDINGS))))


class FlakyLogger:
    """A log sink that fails now and then (seeded): a full disk, a closed pipe, a bad processor."""

    def __init__(self, failure_rate: float, seed: int) -> None:
        self._rng = random.Random(seed)
        self._rate = failure_rate

    def bind(self) -> FlakyLogger:
        return self

    def _event(self, event: str, **fields: object) -> None:
        if self._rng.random() < self._rate:
            raise OSError(28, "No space left on device")

    debug = info = warning = error = _event


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    scripts=st.lists(task_scripts(), min_size=1, max_size=25),
    timeout=st.floats(5, 90),
    stop_at=st.none() | st.floats(0, 100),
    bulk=st.sampled_from(["off", "on", "auto"]),
    max_in_flight=st.integers(1, 8),
    log_failure_rate=st.sampled_from([0.0, 0.3, 1.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_task_is_reported_once_by_the_deadline_whatever_fails(
    scripts: list[TaskScript],
    timeout: float,
    stop_at: float | None,
    bulk: str,
    max_in_flight: int,
    log_failure_rate: float,
    seed: int,
) -> None:
    kps = fake_kps()
    ids = [f"task-{n:02d}" for n in range(len(scripts))]
    for task_id, script in zip(ids, scripts, strict=True):
        replies = {n: FAULTS[name] for n, name in script.faults.items()}
        kps.add_task(
            task_id, [(0, RUNNING), (script.ends_at, ENDINGS[script.ending])], replies=replies
        )
    if bulk != "off" and seed % 3 == 0:  # sometimes the listings are broken too
        kps.listing_reply = FAULTS[sorted(FAULTS)[seed % len(FAULTS)]]

    async def scenario() -> tuple[list[TaskResult], list[float]]:
        loop = asyncio.get_running_loop()
        async with kps.serve() as url:
            settings = settings_for(
                url,
                timeout=timeout,
                bulk=bulk,
                max_in_flight=max_in_flight,
                request_timeout=5.0,
                not_found_grace=10.0,
            )
            waiter = Waiter(
                settings,
                rng=random.Random(seed),
                logger=FlakyLogger(log_failure_rate, seed),  # type: ignore[arg-type]
            )
            if stop_at is not None:
                loop.call_later(stop_at, waiter.stop, "stopped by the test")
            started = loop.time()
            results: list[TaskResult] = []
            seen_at: list[float] = []
            async with waiter:
                async for result in waiter.as_completed(ids):
                    results.append(result)
                    seen_at.append(loop.time() - started)
            return results, seen_at

    results, seen_at = run_virtual(scenario())

    assert sorted(r.task_id for r in results) == ids  # each task exactly once
    assert max(seen_at) <= timeout + 1  # by the deadline, plus the last poll's grace
    for result in results:
        assert result.outcome in set(Outcome)
        assert result.elapsed_s <= timeout + 1
        if result.outcome is Outcome.CANCELLED:
            # Only stop() cancels here, and it ends what is left at once.
            assert stop_at is not None
            assert result.error == "stopped by the test"
            assert abs(result.elapsed_s - stop_at) < 0.01
    if stop_at is not None:  # stop() ends the run at once
        assert max(seen_at) <= min(stop_at + 0.01, timeout + 1)
    _check_outcomes_match_scripts(results, scripts, ids)


def _check_outcomes_match_scripts(
    results: list[TaskResult], scripts: list[TaskScript], ids: list[str]
) -> None:
    """An outcome the script could not have led to is a bug, however the run ended."""
    script_of = dict(zip(ids, scripts, strict=True))
    for result in results:
        script: Any = script_of[result.task_id]
        if result.outcome is Outcome.SUCCESS:
            assert script.ending == "succeeds"
            assert result.status == DONE
        if result.outcome is Outcome.FAILURE:
            assert script.ending == "fails"
