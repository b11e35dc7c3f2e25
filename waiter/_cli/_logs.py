"""Log configuration for the command line: every line redacted, console lines terminal-safe.

Only the command line calls :func:`configure_logging`; the library just emits structlog events.
The masking itself is :mod:`waiter._redact`'s, shared with results, reports and exceptions.
"""

from __future__ import annotations

import io
import json as json_module
import logging
import os
from collections.abc import Collection, Iterable, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any, TextIO

import structlog

from .._redact import printable, redact, remember_secrets
from ._columns import is_terminal

__all__ = ["JsonLine", "Redactor", "configure_logging", "console_colors"]

# Field names whose values are secrets whatever they hold.
_SECRET_FIELDS = frozenset(
    {
        "token", "auth_token", "x-auth-token", "secret_key", "sk", "security_token",
        "x-security-token", "securitytoken", "secret", "authorization",
    }
)  # fmt: skip
# Console values ConsoleRenderer writes as they are, never through repr().
_RAW_TEXT = frozenset({"exception", "stack"})


class Redactor:
    """A structlog processor that masks known secret values and secret-named fields.

    The second line of defence: no code logs a secret on purpose, but an error message from a
    library might quote a header, and this catches it. ``secrets`` join the process-wide
    registry of :func:`waiter._redact.remember_secrets`.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        remember_secrets(*secrets)

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        texts = []
        for key, value in event_dict.items():
            if key.lower() in _SECRET_FIELDS and value is not None:
                event_dict[key] = "***"
            elif isinstance(value, str):
                texts.append(value)
        # One look at all the text first: nearly every event has nothing to mask, and one
        # redact() of the joined values costs what one of a single value does.
        joined = "\x00".join(texts)
        if texts and redact(joined) is not joined:
            for key, value in event_dict.items():
                if isinstance(value, str) and value != "***":
                    event_dict[key] = redact(value)
        return event_dict


class _Escaped:
    """A value shown as the given text: ConsoleRenderer prints non-strings with repr()."""

    __slots__ = ("_shown",)

    def __init__(self, shown: str) -> None:
        self._shown = shown

    def __repr__(self) -> str:
        return self._shown


def _escape_for_terminal(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Console only: no server text may drive the terminal (``\x1b[2J``, ``\r``, ``\u202e``).

    A value with such characters is shown as repr() shows it, quoted with ``\x1b`` escapes.
    Passing it on escaped as a string would not do: ConsoleRenderer repr()s strings holding
    spaces or quotes itself, and would double every backslash. JSON lines need none of this:
    json.dumps (ASCII-only) escapes every control and non-ASCII character.
    """
    for key, value in event_dict.items():
        if not isinstance(value, str) or value.isprintable():  # isprintable: the cheap test
            continue
        if key in _RAW_TEXT:
            event_dict[key] = printable(value, keep_newlines=True)
        else:
            # repr() escapes every character str.isprintable() refuses, those of printable()
            # among them, in the same forms (\x1b, \r, \u202e).
            event_dict[key] = _Escaped(repr(value))
    return event_dict


def _safe_traceback(sio: TextIO, exc_info: Any) -> None:
    """Tracebacks on the console, redacted and escaped like every other value.

    The exception's message may quote a server; structlog's own formatters write it as is.
    Always the plain formatter: rich's colours would be escaped into noise.
    """
    buffer = io.StringIO()
    structlog.dev.plain_traceback(buffer, exc_info)
    sio.write(printable(redact(buffer.getvalue()), keep_newlines=True))


class JsonLine:
    """The JSON format's whole chain in one processor: level, time, traceback, redaction, JSON.

    What structlog's add_log_level, TimeStamper, format_exc_info, a Redactor and JSONRenderer
    do in a row, for about half the cost (measured: 36 -> 20 us an event), which counts when
    100,000 tasks end at the deadline and each one's end is an event.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._redactor = Redactor(secrets)
        # ensure_ascii (json.dumps' default, stated because it matters): C1 controls and bidi
        # overrides from a server arrive as \u0085, \u202e, never raw.
        self._encode = json_module.JSONEncoder(ensure_ascii=True, default=_fallback).encode
        self._format_exc_info = structlog.processors.format_exc_info

    def __call__(self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> str:
        event_dict["level"] = _LEVELS.get(method_name, method_name)
        event_dict["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        if "exc_info" in event_dict:
            # A string field first, so that the redaction below sees the traceback too.
            event_dict = self._format_exc_info(logger, method_name, event_dict)
        return self._encode(self._redactor(logger, method_name, event_dict))


# structlog's add_log_level names these two methods by their level.
_LEVELS = {"warn": "warning", "exception": "error"}


def _fallback(value: object) -> object:
    """What JSONRenderer does with a value JSON has no type for."""
    structlog_form = getattr(value, "__structlog__", None)
    return structlog_form() if callable(structlog_form) else repr(value)


def console_colors(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Colours on the console: as https://no-color.org and FORCE_COLOR have it, else on a tty.

    ``NO_COLOR`` set and not empty: never, even on a terminal (it wins over FORCE_COLOR);
    ``FORCE_COLOR`` set and not empty: always, even into a pipe or a file.
    """
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    return is_terminal(stream)


def _omitting(events: frozenset[str]) -> structlog.typing.Processor:
    """A processor that drops the events named, first in the chain: they cost nothing more."""

    def omit(
        logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if event_dict.get("event") in events:
            raise structlog.DropEvent
        return event_dict

    return omit


def configure_logging(
    *,
    json: bool,
    level: str,
    stream: TextIO,
    secrets: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    console_omits: Collection[str] = (),
) -> None:
    """Structured events on ``stream``: JSON lines, or a console view.

    The console's colours follow :func:`console_colors` for ``env`` (None: ``os.environ``).
    ``console_omits``: events the console view leaves out (the command line's text table
    says the same); JSON lines keep every event, whatever it names.
    """
    processors: list[structlog.typing.Processor]
    if json:
        processors = [JsonLine(secrets)]
    else:
        colors = console_colors(stream, os.environ if env is None else env)
        processors = [
            *([_omitting(frozenset(console_omits))] if console_omits else []),
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            Redactor(secrets),
            _escape_for_terminal,  # after redaction: escaping would hide a secret from it
            structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=_safe_traceback),
        ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
