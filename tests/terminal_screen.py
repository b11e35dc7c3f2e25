"""A tiny terminal, for tests of what waiter draws: enough of a VT100 to replay its output.

It knows what waiter writes to a terminal: text (wide characters take two columns), ``\\r``,
``\\n`` (as a pseudo-terminal delivers it, ``\\r\\n``: column 0 of the next row), erase line
(``ESC [ 2K``, ``ESC [ K``), cursor up (``ESC [ A``, ``ESC [ n A``) and colours (``ESC [ ... m``,
shown as nothing). Anything else fails the test: waiter would be drawing with something this
screen does not know. Like a real terminal it wraps a line that reaches the right margin, and
it notes each wrap, so a test can tell a line that was too wide for the screen.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["Screen"]

_CSI = re.compile(r"\x1b\[([0-9;]*)([A-Za-z])")


def _width(char: str) -> int:
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


class Screen:
    """Rows of cells with a cursor; the rows scrolled off the top are kept (the scrollback)."""

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.rows: list[list[str]] = [[]]
        self.row = 0
        self.col = 0
        # The text of a row at the moment a character wrapped past its end.
        self.wrapped: list[str] = []

    def feed(self, text: str) -> Screen:
        at = 0
        while at < len(text):
            char = text[at]
            if char == "\x1b":
                match = _CSI.match(text, at)
                assert match, f"an escape this screen does not know: {text[at : at + 12]!r}"
                self._control(match[1], match[2])
                at = match.end()
                continue
            if char == "\r":
                self.col = 0
            elif char == "\n":
                self._next_row()
            else:
                assert char.isprintable(), f"a control character reached the screen: {char!r}"
                self._put(char)
            at += 1
        return self

    def resize(self, columns: int) -> Screen:
        """The window made wider or narrower; as xterm does, rows are cut, never re-flowed."""
        self.columns = columns
        self.rows = [row[:columns] for row in self.rows]
        self.col = min(self.col, columns)
        return self

    def lines(self) -> list[str]:
        """Every row, scrollback included, without trailing blanks or blank rows at the end."""
        lines = ["".join(row).rstrip() for row in self.rows]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    def _put(self, char: str) -> None:
        width = _width(char)
        if self.col + width > self.columns:
            self.wrapped.append("".join(self.rows[self.row]))
            self._next_row()
        row = self.rows[self.row]
        if len(row) < self.col + width:
            row.extend(" " * (self.col + width - len(row)))
        row[self.col] = char
        if width == 2:
            row[self.col + 1] = ""  # the right half of a wide character
        self.col += width

    def _next_row(self) -> None:
        self.row += 1
        self.col = 0
        if self.row == len(self.rows):
            self.rows.append([])

    def _control(self, parameters: str, command: str) -> None:
        count = int(parameters or "1") if command == "A" else 0
        if command == "m":
            return  # a colour: nothing to place
        if command == "A":
            assert self.row - count >= 0, "the cursor went above the first row"
            self.row -= count
        elif command == "K" and parameters == "2":
            self.rows[self.row] = []
        elif command == "K" and parameters in ("", "0"):
            del self.rows[self.row][self.col :]
        else:
            raise AssertionError(f"a control sequence this screen does not know: {command!r}")
