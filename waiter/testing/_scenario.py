"""Scenario files: scripted KPS tasks in TOML, for ``python -m waiter.testing``.

The format is documented in :mod:`waiter.testing` and in ``scenario.example.toml`` beside this
module (``python -m waiter.testing --example`` prints it). Every problem is reported as one
:class:`ScenarioError` line naming the file, the task and the field, because the standalone
server is often started from CI scripts where a traceback helps nobody.
The same checks guard timelines given in Python (:func:`check_timeline`).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .._apis._task_ids import is_task_id
from .._config._secrets import is_header_safe
from .._config._table import is_project_id
from ._fake import FakeKps, Reply, Step, Timeline

__all__ = [
    "DEFAULT_PROJECT_ID",
    "Scenario",
    "ScenarioError",
    "ScriptedTask",
    "add_to",
    "check_project_id",
    "check_replies",
    "check_task_id",
    "check_timeline",
    "check_token",
    "load_scenario",
    "parse_scenario",
]

DEFAULT_PROJECT_ID = "0123456789abcdef0123456789abcdef"

# RFC 9110 token characters: what aiohttp accepts as a header name.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

_TOP_KEYS = {"project_id", "token", "task"}
_TASK_KEYS = {"id", "server_id", "timeline", "faults"}
_REPLY_KEYS = {"status", "code", "message", "headers", "body", "hang", "reset"}


class ScenarioError(ValueError):
    """A scenario file, or a timeline given in code, is wrong; the message is one line."""


@dataclass(frozen=True)
class ScriptedTask:
    """One task of a scenario: its timeline, server and scripted answers by request number."""

    task_id: str
    timeline: tuple[Step, ...]
    server_id: str | None = None
    replies: Mapping[int, Reply] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """What a scenario file describes: the project, the token demanded, and the tasks."""

    project_id: str = DEFAULT_PROJECT_ID
    token: str | None = None
    tasks: tuple[ScriptedTask, ...] = ()


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file; any problem raises :class:`ScenarioError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise ScenarioError(f"cannot read scenario file {path}: {reason}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path} is not valid TOML: {error}") from None
    return parse_scenario(document, source=str(path))


def parse_scenario(document: Mapping[str, object], *, source: str = "scenario") -> Scenario:
    """Check a parsed scenario document; ``source`` names it in error messages."""
    _no_unknown_keys(document, _TOP_KEYS, source)
    project_id = check_project_id(document.get("project_id", DEFAULT_PROJECT_ID), source)
    token = check_token(document.get("token"), source)
    raw_tasks = document.get("task", [])
    if not isinstance(raw_tasks, list):
        raise ScenarioError(f"{source}: task must be an array of tables, written [[task]]")
    tasks: list[ScriptedTask] = []
    seen: set[str] = set()
    for number, raw in enumerate(raw_tasks, start=1):
        task = _parse_task(raw, source, number)
        if task.task_id in seen:
            raise ScenarioError(f"{source}: task {task.task_id!r} is defined twice")
        seen.add(task.task_id)
        tasks.append(task)
    return Scenario(project_id=project_id, token=token, tasks=tuple(tasks))


def add_to(kps: FakeKps, scenario: Scenario) -> None:
    """Script every task of ``scenario`` on ``kps``."""
    for task in scenario.tasks:
        kps.add_task(task.task_id, task.timeline, server_id=task.server_id, replies=task.replies)


def check_task_id(value: object, where: str) -> str:
    """A task ID the client would accept; ``where`` names it in the error."""
    # The client's own check: a scenario the client would refuse is no use.
    if not is_task_id(value):
        raise ScenarioError(f"{where} must be 1-128 characters of A-Z a-z 0-9 . _ -, got {value!r}")
    return value


def check_project_id(value: object, where: str) -> str:
    """A project ID the client would accept; ``where`` names its source in the error."""
    if not is_project_id(value):
        raise ScenarioError(
            f"{where}: project_id must be 1-64 characters of A-Z a-z 0-9 . _ -, got {value!r}"
        )
    return value


def check_token(value: object, where: str) -> str | None:
    """None (any token is accepted) or a token that can travel in a header."""
    if value is not None and not (isinstance(value, str) and is_header_safe(value)):
        # Never echo the value: it may be a copy of a real secret.
        raise ScenarioError(
            f"{where}: token must be a non-empty string without spaces or control characters"
        )
    return value


def check_replies(replies: Mapping[int, Reply], where: str) -> dict[int, Reply]:
    """Scripted answers given in code: request numbers from 1, each a :class:`Reply`."""
    checked: dict[int, Reply] = {}
    for number, reply in replies.items():
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ScenarioError(f"{where}: replies key {number!r} must be a request number from 1")
        if not isinstance(reply, Reply):
            raise ScenarioError(f"{where}: replies[{number}] must be a Reply, got {reply!r}")
        checked[number] = reply
    return checked


def check_timeline(timeline: Timeline, where: str) -> tuple[Step, ...]:
    """A timeline given in Python, checked like a scenario's; ``where`` prefixes the error.

    The simulated server reads a timeline as "the last step whose time has come", so steps out
    of order would silently hide each other: they are refused instead.
    """
    if isinstance(timeline, str | bytes) or not isinstance(timeline, Sequence):
        raise ScenarioError(f"{where}: timeline must be a list of (seconds, status) steps")
    steps: list[Step] = []
    for number, step in enumerate(timeline, start=1):
        at_step = f"{where}: timeline step {number}"
        if not isinstance(step, Sequence) or isinstance(step, str | bytes) or len(step) != 2:
            raise ScenarioError(f"{at_step} must be a pair (seconds, status), got {step!r}")
        at, what = step
        seconds = _seconds(at, at_step)
        if steps and seconds < steps[-1][0]:
            raise ScenarioError(
                f"{at_step} comes at {seconds:g} s, before step {number - 1} "
                f"({steps[-1][0]:g} s): list steps in time order"
            )
        if not (isinstance(what, Reply) or (isinstance(what, str) and what.strip())):
            raise ScenarioError(f"{at_step}: the status must be a non-empty string or a Reply")
        steps.append((seconds, what))
    if not steps:
        raise ScenarioError(f"{where}: timeline is empty; give at least one (seconds, status)")
    return tuple(steps)


# --- one task -----------------------------------------------------------------------------------


def _parse_task(raw: object, source: str, number: int) -> ScriptedTask:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: task #{number} must be a table, written [[task]]")
    task_id = check_task_id(raw.get("id"), f"{source}: task #{number}: id")
    # From here on errors name the task by its ID: what a user searches the file for.
    where = f"{source}: task {task_id!r}"
    _no_unknown_keys(raw, _TASK_KEYS, where)
    server_id = raw.get("server_id")
    if server_id is not None and not (isinstance(server_id, str) and server_id.strip()):
        raise ScenarioError(f"{where}: server_id must be a non-empty string, got {server_id!r}")
    if "timeline" not in raw:
        raise ScenarioError(f'{where}: timeline is missing, e.g. [[0, "RUNNING_RESET"]]')
    raw_timeline = raw["timeline"]
    if not isinstance(raw_timeline, list):
        raise ScenarioError(f"{where}: timeline must be an array of [seconds, status] steps")
    timeline = check_timeline(
        [
            _parse_step(step, f"{where}: timeline step {n}")
            for n, step in enumerate(raw_timeline, 1)
        ],
        where,
    )
    return ScriptedTask(task_id, timeline, server_id, _parse_faults(raw.get("faults", {}), where))


def _parse_step(raw: object, where: str) -> Step:
    if not isinstance(raw, list) or len(raw) != 2:
        raise ScenarioError(
            f'{where} must be a pair [seconds, status] such as [2, "RUNNING_RESET"], got {raw!r}'
        )
    at, what = raw
    seconds = _seconds(at, where)
    if isinstance(what, dict):
        return (seconds, _parse_reply(what, where))
    if not isinstance(what, str) or not what.strip():
        raise ScenarioError(
            f"{where}: the status must be a non-empty string or a fault table "
            f"such as {{ status = 503 }}, got {what!r}"
        )
    return (seconds, what)


def _parse_faults(raw: object, where: str) -> dict[int, Reply]:
    if not isinstance(raw, dict):
        raise ScenarioError(
            f"{where}: faults must be a table of request number -> fault, "
            "such as { 1 = { status = 503 } }"
        )
    replies: dict[int, Reply] = {}
    for key, value in raw.items():
        if not key.isdigit() or int(key) < 1:
            raise ScenarioError(
                f"{where}: faults key {key!r} must be a request number, 1 for the first request"
            )
        at_fault = f"{where}: faults.{key}"
        if not isinstance(value, dict):
            raise ScenarioError(f"{at_fault} must be a table such as {{ status = 503 }}")
        replies[int(key)] = _parse_reply(value, at_fault)
    return replies


# --- one fault ----------------------------------------------------------------------------------


def _parse_reply(raw: Mapping[str, object], where: str) -> Reply:
    _no_unknown_keys(raw, _REPLY_KEYS, where)
    hang = _flag(raw, "hang", where)
    reset = _flag(raw, "reset", where)
    if hang and reset:
        raise ScenarioError(f"{where}: choose hang or reset, not both")
    status = raw.get("status")
    if status is None and not hang:
        raise ScenarioError(f"{where}: status is missing: the HTTP status to answer, such as 503")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599
    ):
        raise ScenarioError(
            f"{where}: status must be an HTTP status from 200 to 599, got {status!r}"
        )
    reply = Reply(
        # A hang never answers, so its status is never sent.
        http_status=status if isinstance(status, int) else 200,
        error_code=_optional_text(raw, "code", where),
        headers=_headers(raw.get("headers", {}), where),
        hang=hang,
        reset=reset,
    )
    message = _optional_text(raw, "message", where)
    if message is not None:
        reply = replace(reply, error_msg=message)
    body = _optional_text(raw, "body", where)
    if body is not None:
        reply = replace(reply, body=body.encode("utf-8"))
    return reply


def _headers(raw: object, where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ScenarioError(f'{where}: headers must be a table such as {{ Retry-After = "2" }}')
    headers: dict[str, str] = {}
    for name, value in raw.items():
        if not _HEADER_NAME.fullmatch(name):
            raise ScenarioError(f"{where}: header name {name!r} is not a valid HTTP header name")
        # Control characters would let a scenario split the answer into two.
        if not isinstance(value, str) or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ScenarioError(
                f'{where}: header {name} must be a string without control characters, such as "2"'
            )
        headers[name] = value
    return headers


# --- small checks -------------------------------------------------------------------------------


def _no_unknown_keys(raw: Mapping[str, object], known: set[str], where: str) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ScenarioError(
            f"{where}: unknown key {unknown[0]!r}; expected one of {', '.join(sorted(known))}"
        )


def _seconds(raw: object, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ScenarioError(f"{where}: the time must be a number of seconds, got {raw!r}")
    if raw < 0:
        raise ScenarioError(f"{where}: the time must be 0 or more seconds, got {raw!r}")
    return float(raw)


def _flag(raw: Mapping[str, object], key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise ScenarioError(f"{where}: {key} must be true or false, got {value!r}")
    return value


def _optional_text(raw: Mapping[str, object], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ScenarioError(f"{where}: {key} must be a string, got {value!r}")
    return value
