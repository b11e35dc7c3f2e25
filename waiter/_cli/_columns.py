"""Text measured in terminal columns: cut to a width with an ellipsis, padded to line up.

A terminal shows a CJK character or most emoji two columns wide, and a combining accent or a
zero-width joiner in no column at all, so ``len()`` would cut too late (the line wraps) or pad
too little (the table's columns drift). Text given here is already escaped
(:func:`waiter._redact.printable`): no control character is left to move the cursor.
"""

from __future__ import annotations

import os
import unicodedata
from typing import TextIO

__all__ = [
    "ELLIPSIS",
    "FALLBACK_SIZE",
    "columns",
    "ellipsis_for",
    "fit",
    "is_terminal",
    "pad",
    "terminal_size",
]

ELLIPSIS = "\u2026"  # one column, where the stream can encode it
ASCII_ELLIPSIS = "..."
# Marks, enclosing marks and format characters (ZWJ, soft hyphen, word joiner): drawn on the
# character before them, or not at all.
_ZERO_WIDTH_CATEGORIES = frozenset({"Mn", "Me", "Cf"})
# What a terminal that cannot say its size (a pty nobody sized) is taken to be.
FALLBACK_SIZE = (80, 24)


def terminal_size(stream: TextIO) -> tuple[int, int]:
    """(columns, lines) of the terminal behind ``stream``, asked anew each time (it may be
    resized), or ``FALLBACK_SIZE``."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError, AttributeError):  # no fd (a test's stream), or not a terminal
        return FALLBACK_SIZE
    return (size.columns or FALLBACK_SIZE[0], size.lines or FALLBACK_SIZE[1])


def columns(text: str) -> int:
    """How many columns ``text`` takes on a terminal."""
    if text.isascii():
        return len(text)  # the common case: task IDs, statuses, UUIDs
    return sum(_char_columns(char) for char in text)


def _char_columns(char: str) -> int:
    if unicodedata.category(char) in _ZERO_WIDTH_CATEGORIES:
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def fit(text: str, width: int, ellipsis: str = ELLIPSIS) -> str:
    """``text`` cut to at most ``width`` columns, ending in ``ellipsis`` when it was cut."""
    if columns(text) <= width:
        return text
    room = width - columns(ellipsis)
    if room < 0:
        return ellipsis[: max(width, 0)]
    kept, used = [], 0
    for char in text:
        used += _char_columns(char)
        if used > room:
            break
        kept.append(char)
    return "".join(kept) + ellipsis


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` columns (on the left when ``right``)."""
    padding = " " * max(width - columns(text), 0)
    return padding + text if right else text + padding


def ellipsis_for(stream: TextIO) -> str:
    """The one-column ellipsis when ``stream`` can encode it, else three dots.

    A stream in an ASCII locale would show U+2026 as ``\\u2026``: six columns where one was
    counted, or a UnicodeEncodeError.
    """
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        ELLIPSIS.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ASCII_ELLIPSIS
    return ELLIPSIS


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal; a closed or odd stream is not."""
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False
