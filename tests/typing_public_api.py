"""Pins the public API's types. Type-checked in CI (mypy --strict), never run."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import waiter
from waiter.testing import (
    FakeKpsServer,
    Reply,
    Step,
    Timeline,
    Timelines,
    fake_kps,
    fake_kps_in_thread,
    set_testing,
    testing,
)


async def library_use(settings: waiter.Settings) -> None:
    results: list[waiter.TaskResult] = await waiter.wait_for(["a", "b"], settings)
    outcome: waiter.Outcome = results[0].outcome
    error: str | None = results[0].error
    polls: int = results[0].polls
    elapsed: float = results[0].elapsed_s

    async with waiter.Waiter(settings, rng=random.Random(1)) as w:
        one: waiter.TaskResult = await w.wait("a")
        async for result in w.as_completed(["b", "c"]):
            as_dict: dict[str, object] = result.to_dict()
        w.stop("because")

    del outcome, error, polls, elapsed, one, as_dict


def settings_use() -> waiter.Settings:
    loaded: waiter.Settings = waiter.Settings.load(config_path=Path("x.toml"), env={})
    made = waiter.Settings(region="cn-north-4", project_id="p", token="t", timeout=60.0)
    try:
        waiter.Settings(min_interval=-1)
    except waiter.ConfigError as error:
        reason: str = str(error)
        del reason
    version: str = waiter.__version__
    del version
    logger: logging.Logger = waiter.log_to_stdlib("debug")
    logger = waiter.log_to_stdlib(logging.INFO)
    del logger
    return made if made.timeout > loaded.timeout else loaded


async def testing_use() -> None:
    set_testing(True)
    async with fake_kps({"t": [(0, "RUNNING_RESET"), (5, Reply(503))]}) as server:
        kps: FakeKpsServer = server
        result = await waiter.wait_for(["t"], kps.settings(timeout=10.0))
        del result


def timeline_types_use() -> None:
    step: Step = (0, "RUNNING_RESET")
    timeline: Timeline = [step, (2.5, Reply(503, "SYS.0503")), (9, "SUCCESS_RESET")]
    tasks: Timelines = {"t1": timeline, "t2": [(0, "FAILED_RESET")]}
    with testing(), fake_kps_in_thread(tasks) as kps:
        kps.add_task("t3", timeline)
