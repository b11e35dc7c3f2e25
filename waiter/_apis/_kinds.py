"""The task APIs waiter knows, and what differs between them: a table of plain data.

Each API is one client module with the small :class:`waiter._apis._base.TaskApi` interface
(``fetch(task_id) -> TaskStatus``): ``_kps.py``, ``_ecs_job.py``, ``_json.py``. This table says,
per API, where it lives by default and which statuses mean what; ``_clients.client_for`` makes
its client. It loads no aiohttp, so settings can be checked against it before anything heavier.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["API_KINDS", "ApiKind"]

Patterns = tuple[str, ...]


@dataclass(frozen=True)
class ApiKind:
    name: str
    default_endpoint: str | None  # may contain {region}; None: the URL template says it all
    success: Patterns | None  # None: the user must say (--success)
    failure: Patterns | None
    pending: Patterns | None


API_KINDS = {
    kind.name: kind
    for kind in (
        ApiKind(
            "kps",
            "https://kms.{region}.myhuaweicloud.com",
            ("SUCCESS_*",),
            ("FAILED_*",),
            ("READY_*", "RUNNING_*"),
        ),
        # Huawei Cloud's job API; ECS answers it, and EVS, IMS and BMS jobs have the same shape.
        ApiKind(
            "ecs-job",
            "https://ecs.{region}.myhuaweicloud.com",
            ("SUCCESS",),
            ("FAIL",),
            ("INIT", "RUNNING"),
        ),
        ApiKind("http", None, None, None, None),
    )
}
