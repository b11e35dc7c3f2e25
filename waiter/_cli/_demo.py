"""``python -m waiter --demo``: the whole flow against the simulated KPS on 127.0.0.1."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from .._config._settings import Settings
from ..testing._fake import FakeKps

__all__ = ["demo_settings", "demo_tasks", "serve_demo"]

_PROJECT = "0123456789abcdef0123456789abcdef"
# A token made per run: the simulated server checks it like the real one would.
_TOKEN = secrets.token_urlsafe(24)
# Each task: when it starts running and when it succeeds, in seconds.
_TASKS = {
    "aee8d2fe-5484-4753-9177-5a38dc15546c": (0.5, 2.0),
    "5b1e0c1e-7d32-4c89-9a0b-2f8e1d6c3a41": (1.0, 3.5),
    "c7f4a9d2-1e6b-4f3a-8c5d-9b2e7a1f0d63": (1.5, 5.0),
}


def demo_tasks() -> list[str]:
    return list(_TASKS)


@asynccontextmanager
async def serve_demo() -> AsyncIterator[str]:
    kps = FakeKps(project_id=_PROJECT, token=_TOKEN)
    for task_id, (running_at, done_at) in _TASKS.items():
        kps.add_task(
            task_id,
            [(0.0, "READY_RESET"), (running_at, "RUNNING_RESET"), (done_at, "SUCCESS_RESET")],
        )
    async with kps.serve() as endpoint:
        yield endpoint


def demo_settings(settings: Settings, endpoint: str) -> Settings:
    """The user's output and log choices; the demo's own server, credentials and pace."""
    return replace(
        settings,
        endpoint=endpoint,
        region=None,
        project_id=_PROJECT,
        token=_TOKEN,
        token_file=None,
        access_key=None,
        secret_key=None,
        security_token=None,
        timeout=30.0,
        min_interval=0.5,
        max_interval=2.0,
        rate=50.0,
        success=("SUCCESS_*",),
        failure=("FAILED_*",),
        pending=("READY_*", "RUNNING_*"),
    )
