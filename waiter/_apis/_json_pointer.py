"""RFC 6901 JSON pointers, for the http task API's ``status_field`` (``/status/phase``)."""

from __future__ import annotations

from .._errors import ConfigError

__all__ = ["follow", "parse_pointer"]


def parse_pointer(pointer: str) -> tuple[str, ...]:
    """The pointer's reference tokens; a ConfigError if it is not a pointer.

    The settings' own check refuses such a status field first, naming it as the user gave it.
    """
    if not pointer.startswith("/"):
        raise ConfigError(
            f"{pointer!r} is not a JSON pointer: write it as /status or /status/phase",
            setting="status_field",
        )
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/"))


def follow(document: object, tokens: tuple[str, ...]) -> object:
    """What the pointer points at in ``document``, or None."""
    for token in tokens:
        if isinstance(document, dict):
            document = document.get(token)
        elif isinstance(document, list) and token.isdigit() and int(token) < len(document):
            document = document[int(token)]
        else:
            return None
    return document
