"""Shared test helpers: settings aimed at the simulated KPS, and a structlog capture."""

from __future__ import annotations

from typing import Any

from conftest import PROJECT, TOKEN

from waiter import Settings, TaskResult, wait_for
from waiter._fake import FakeKps


def settings_for(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "endpoint": url,
        "project_id": PROJECT,
        "token": TOKEN,
        "min_interval": 1.0,
        "max_interval": 8.0,
        "timeout": 120.0,
        "rate": 1000.0,
    }
    values.update(overrides)
    return Settings(**values)


def fake_kps() -> FakeKps:
    return FakeKps(project_id=PROJECT, token=TOKEN)


async def wait_on(kps: FakeKps, task_ids: list[str], **overrides: Any) -> list[TaskResult]:
    async with kps.serve() as url:
        return await wait_for(task_ids, settings_for(url, **overrides))


def by_id(results: list[TaskResult]) -> dict[str, TaskResult]:
    return {result.task_id: result for result in results}
