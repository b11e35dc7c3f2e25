"""Logging that cannot fail a run: every event is best effort.

A log sink is the one thing a run depends on that the user's environment owns: stderr's reader
can go away (``waiter ... 2>&1 | head -2``), a disk can fill, an application's structlog
processor can raise. None of that may stop a task from being reported, so the engine and the
start-up code log through :class:`BestEffortLog`, which drops an event whose writing fails.
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

__all__ = ["BestEffortLog", "EventLog"]


class EventLog(Protocol):
    """The part of a structlog logger waiter uses: one method per level."""

    def debug(self, event: str, **fields: Any) -> Any: ...
    def info(self, event: str, **fields: Any) -> Any: ...
    def warning(self, event: str, **fields: Any) -> Any: ...
    def error(self, event: str, **fields: Any) -> Any: ...


class BestEffortLog:
    """Wraps a structlog logger; an event that fails to be written is dropped, not raised."""

    __slots__ = ("_logger",)

    def __init__(self, logger: EventLog) -> None:
        # Bound once: structlog's lazy proxy would otherwise rebuild the logger on every event.
        bind = getattr(logger, "bind", None)
        self._logger: EventLog = bind() if callable(bind) else logger

    def debug(self, event: str, **fields: Any) -> None:
        self._emit("debug", event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._emit("info", event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._emit("warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._emit("error", event, fields)

    def _emit(self, level: str, event: str, fields: dict[str, Any]) -> None:
        # Best effort by design (see the module docstring): a failed event is dropped.
        with contextlib.suppress(Exception):
            getattr(self._logger, level)(event, **fields)
