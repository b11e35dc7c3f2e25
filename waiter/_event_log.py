"""waiter's events: where they go, and logging that cannot fail a run.

**Where.** An application that configured structlog gets waiter's events through its own
configuration, like any other structlog event (the command line configures structlog itself).
An application that did not gets them as records of the standard library's logger ``"waiter"``:
structlog's default configuration prints every event, debug included, to stdout, which is no
place for a library's chatter, while unconfigured stdlib logging shows only warnings and worse,
on stderr, and otherwise follows the application's logging setup. :func:`log_to_stdlib` sends
them to that logger whatever structlog's configuration. The choice is made once, when a
:class:`waiter.Waiter` is made (:func:`library_log`): polling pays nothing for it.

**Best effort.** A log sink is the one thing a run depends on that the user's environment owns:
stderr's reader can go away (``waiter ... 2>&1 | head -2``), a disk can fill, an application's
structlog processor or logging handler can raise. None of that may stop a task from being
reported, so the engine and the start-up code log through :class:`BestEffortLog`, which drops an
event whose writing fails.
"""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any, Protocol

import structlog

from ._redact import redact

__all__ = [
    "LOGGER_NAME",
    "BestEffortLog",
    "EventLog",
    "StdlibEventLog",
    "is_enabled_for",
    "library_log",
    "log_to_stdlib",
]

LOGGER_NAME = "waiter"

# Set by log_to_stdlib(): waiter's events go to the stdlib logger even when structlog is set up.
_to_stdlib = False
# The stderr handler log_to_stdlib() added, if it added one: a second call must not add another.
_stderr_handler: logging.Handler | None = None


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

    def is_enabled_for(self, level: int) -> bool:
        """Whether an event at ``level`` (a ``logging`` constant) would be written."""
        return is_enabled_for(self._logger, level)

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
        try:  # noqa: SIM105 - suppress() would make an object an event
            getattr(self._logger, level)(event, **fields)
        except Exception:  # noqa: S110 - dropped, on purpose
            pass


def is_enabled_for(logger: object, level: int) -> bool:
    """Whether ``logger`` (any :class:`EventLog`) would write an event at ``level``.

    For a caller that would otherwise build an event's fields only for them to be filtered
    out: the engine asks once a run whether to describe every poll at debug level. structlog's
    filtering loggers and :class:`StdlibEventLog` know; of any other logger, and when asking
    fails, the answer is yes, so no event is lost.
    """
    try:
        check = getattr(logger, "is_enabled_for", None)
        return True if check is None else bool(check(level))
    except Exception:
        return True


class StdlibEventLog:
    """waiter's events as records of a stdlib logger, at the event's level.

    The message is the event and its fields, logfmt-style and masked by the redactor:
    ``task_ended task_id=t1 outcome=failure status=FAILED_RESET polls=4 ...``. The record also
    carries them as data, ``record.waiter_event`` and ``record.waiter_fields``, for a filter or
    a JSON formatter. An event below the logger's level costs one level check.
    """

    __slots__ = ("_logger",)

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def is_enabled_for(self, level: int) -> bool:
        return self._logger.isEnabledFor(level)

    def debug(self, event: str, **fields: Any) -> None:
        self._log(logging.DEBUG, event, fields)

    def info(self, event: str, **fields: Any) -> None:
        self._log(logging.INFO, event, fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._log(logging.WARNING, event, fields)

    def error(self, event: str, **fields: Any) -> None:
        self._log(logging.ERROR, event, fields)

    def _log(self, level: int, event: str, fields: dict[str, Any]) -> None:
        if not self._logger.isEnabledFor(level):
            return
        # structlog's exc_info=True: the traceback goes into the message, so that the redactor
        # sees it too (the handler's formatter would print the exception's text as it is).
        with_traceback = bool(fields.pop("exc_info", False))
        shown = {
            key: redact(value) if isinstance(value, str) else value for key, value in fields.items()
        }
        message = " ".join([event, *(f"{key}={_logfmt(value)}" for key, value in shown.items())])
        if with_traceback:
            message += "\n" + redact(traceback.format_exc().rstrip())
        self._logger.log(level, message, extra={"waiter_event": event, "waiter_fields": shown})


def _logfmt(value: object) -> str:
    """A value as logfmt writes it: bare when it is one plain word, else quoted JSON.

    Quoting with JSON escapes control characters and bidi overrides (a server's status or
    error message may hold any), so a terminal showing stderr cannot be driven by them.
    """
    if isinstance(value, str):
        plain = value and value.isprintable() and not any(c in value for c in ' "=\\')
        return value if plain else json.dumps(value)
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(str(value))


def library_log() -> BestEffortLog:
    """The event log a Waiter (or start-up code) uses when given none; see the module docstring."""
    if _to_stdlib or not structlog.is_configured():
        return BestEffortLog(StdlibEventLog(logging.getLogger(LOGGER_NAME)))
    return BestEffortLog(structlog.get_logger(LOGGER_NAME))


def log_to_stdlib(level: int | str = logging.INFO) -> logging.Logger:
    """Send waiter's events to the standard library's logger ``"waiter"``, from ``level`` up.

    From now on every :class:`waiter.Waiter` and :func:`waiter.wait_for` logs there, even when
    the application has configured structlog. The logger's level is set to ``level`` (a
    ``logging`` constant or a name such as ``"debug"``). When no handler would receive its
    records (logging not configured at all), one is added that writes them to stderr, so that
    one call is enough in a script; call it after your own ``logging`` set-up, if you have one.
    Returns the logger, to adjust further.

    Without this call, waiter's events already go to that logger unless structlog is configured;
    unconfigured, ``logging`` shows only warnings and worse, on stderr.

    Added in 0.1.0.
    """
    global _to_stdlib, _stderr_handler  # noqa: PLW0603 - one process-wide switch, like set_testing
    logger = logging.getLogger(LOGGER_NAME)
    try:
        logger.setLevel(level.upper() if isinstance(level, str) else level)
    except (TypeError, ValueError):
        raise ValueError(
            f"level must be a logging level such as 'info' or logging.DEBUG, got {level!r}"
        ) from None
    if _stderr_handler is None and not logger.hasHandlers():
        _stderr_handler = logging.StreamHandler()
        _stderr_handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        logger.addHandler(_stderr_handler)
    _to_stdlib = True
    return logger
