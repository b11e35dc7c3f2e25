"""Log configuration for the command line, and the redaction every log line passes through.

Only the command line calls :func:`configure_logging`; the library just emits structlog events.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

__all__ = ["Redactor", "configure_logging", "remember_secrets"]

# Field names whose values are secrets whatever they hold.
_SECRET_FIELDS = frozenset(
    {
        "token", "auth_token", "x-auth-token", "secret_key", "sk", "security_token",
        "x-security-token", "securitytoken", "secret", "authorization",
    }
)  # fmt: skip

# Secrets learnt while running (a token file, a profile file, the ECS metadata service): the
# command line configures logging before they are read, so they are masked from here too.
_learnt: set[str] = set()


def remember_secrets(*secrets: str | None) -> None:
    """Mask these values in every event from now on (where the command line set up logging)."""
    _learnt.update(secret for secret in secrets if secret)


class Redactor:
    """A structlog processor that masks known secret values and secret-named fields.

    The second line of defence: no code logs a secret on purpose, but an error message from a
    library might quote a header, and this catches it.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        self._given = {s for s in secrets if s}
        self._secrets: list[str] = []
        self._known = -1

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in event_dict.items():
            if key.lower() in _SECRET_FIELDS and value is not None:
                event_dict[key] = "***"
            elif isinstance(value, str):
                event_dict[key] = self.mask(value)
        return event_dict

    def mask(self, text: str) -> str:
        if self._known != len(_learnt):  # a secret was learnt since the last event
            self._known = len(_learnt)
            # Longest first, so a secret that contains another is masked whole.
            self._secrets = sorted(self._given | _learnt, key=len, reverse=True)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def configure_logging(*, json: bool, level: str, stream: TextIO, secrets: Iterable[str]) -> None:
    """Structured events on ``stream``: JSON lines, or a console view with colours on a tty."""
    renderer: structlog.typing.Processor
    if json:
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())
    processors: list[structlog.typing.Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json:
        processors.append(structlog.processors.format_exc_info)
    processors += [Redactor(secrets), renderer]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
