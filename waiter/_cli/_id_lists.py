"""The formats of a task ID list (stdin and ``--ids-file``), told apart by their first entry.

- Plain lines: one ID a line.
- JSON, when the first entry starts with ``{``, ``[`` or ``"``: objects with a ``"task_id"``
  string (KPS's bind and unbind answers, waiter's own result lines), one after another (JSON
  lines, or jq's pretty-printed output) or in a JSON array; ID strings, alone or in an array;
  and KPS's batch answer, ``{"tasks": [{"task_id": ...}, ...]}``.

In both, blank lines and ``#`` comment lines between entries are ignored. The IDs come back as
found: the caller checks them and drops duplicates. Bounded work: the text is at most 64 MiB
(read so by the caller), a top-level array is decoded element by element so that only the IDs
are kept, and JSON nested deeper than the parser can take is refused like broken JSON.
"""

from __future__ import annotations

import json
import re

from .._apis._task_ids import parse_id_lines
from .._config._table import shown
from .._errors import ConfigError

__all__ = ["parse_id_list"]

# Whitespace and # comments, between the entries of a list (never inside a JSON value).
_BETWEEN = re.compile(r"(?:\s|#[^\n]*)*")
_JSON_SPACE = re.compile(r"[ \t\r\n]*")
_JSON_STARTS = frozenset('{["')
# What each bad input's message ends with: the formats there are.
_FIX = 'give one JSON object with a "task_id" a line, a JSON array of them, or one task ID a line'
# Keys of an object without a task_id that its message lists: enough to spot "taskId".
_KEYS_SHOWN = 5
_decoder = json.JSONDecoder()


def parse_id_list(text: str, where: str) -> list[str]:
    """The task IDs in ``text``, in order; ``where`` names the input in error messages."""
    text = text.removeprefix("\ufeff")  # Windows editors' byte order mark
    first = _BETWEEN.match(text).end()  # type: ignore[union-attr]  # matches the empty string
    if first < len(text) and text[first] in _JSON_STARTS:
        return _JsonIds(text, where).read(first)
    return parse_id_lines(text)


class _JsonIds:
    """The IDs of one JSON list, with its errors naming the line (and element) at fault."""

    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.ids: list[str] = []

    def read(self, position: int) -> list[str]:
        text = self.text
        while position < len(text):
            if text[position] == "[":
                position = self._array(position)
            else:
                value, position_after = self._value(position)
                self._take(value, _Place(position))
                position = position_after
            position = _BETWEEN.match(text, position).end()  # type: ignore[union-attr]
        return self.ids

    def _array(self, start: int) -> int:
        """Take each element of the array at ``start``; the position after its ``]``."""
        text = self.text
        position = self._space(start + 1)
        if text.startswith("]", position):
            return position + 1
        number = 0
        while True:
            number += 1
            value, position_after = self._value(position)
            self._take(value, _Place(position, f"element {number} of the array"))
            position = self._space(position_after)
            if text.startswith(",", position):
                position = self._space(position + 1)
            elif text.startswith("]", position):
                return position + 1
            elif position == len(text):
                raise self._broken(start, "the array that begins here never ends", at_column=False)
            else:
                raise self._broken(position, "Expecting ',' delimiter or ']'")

    def _take(self, value: object, place: _Place) -> None:
        """The ID ``value`` names, or its elements' (KPS's batch answer); else the error."""
        if isinstance(value, str):
            self.ids.append(value)
            return
        if isinstance(value, dict):
            task_id = value.get("task_id")
            if isinstance(task_id, str):
                self.ids.append(task_id)
                return
            tasks = value.get("tasks")
            if not place.in_tasks and "task_id" not in value and isinstance(tasks, list):
                for number, task in enumerate(tasks, 1):
                    self._take(task, place.within_tasks(number))
                return
            raise self._wrong(
                place,
                f'the JSON object has no "task_id" string ({_why(value)}); every object needs '
                "its task's ID there: fix or remove this one",
            )
        raise self._wrong(
            place,
            f'expected a JSON object with a "task_id" or an ID string, got {_kind(value)}; {_FIX}',
        )

    def _value(self, position: int) -> tuple[object, int]:
        """The JSON value at ``position`` and the position after it."""
        try:
            return _decoder.raw_decode(self.text, position)
        except json.JSONDecodeError as error:
            if not self.text[error.pos :].strip():
                # Cut short (a line that never closes its object): the line it begins on is
                # the one to look at, not the end of the input.
                why = "the value that begins here never ends"
                raise self._broken(position, why, at_column=False) from None
            raise self._broken(error.pos, error.msg, begun=position) from None
        except RecursionError:
            raise self._broken(position, "nested too deeply", at_column=False) from None
        except ValueError:  # more digits than int() takes (sys.get_int_max_str_digits)
            raise self._broken(position, "a number too long to read", at_column=False) from None

    def _space(self, position: int) -> int:
        return _JSON_SPACE.match(self.text, position).end()  # type: ignore[union-attr]

    def _line(self, position: int) -> int:
        return self.text.count("\n", 0, position) + 1

    def _broken(
        self, position: int, why: str, *, at_column: bool = True, begun: int | None = None
    ) -> ConfigError:
        line = self._line(position)
        if at_column:
            column = position - (self.text.rfind("\n", 0, position) + 1) + 1
            why = f"{why}, column {column}"
        if begun is not None and self._line(begun) != line:
            # One JSON line that lacks its closing brace shows only on the next line.
            why = f"{why}, in the value that begins on line {self._line(begun)}"
        return ConfigError(f"{self.where}: line {line} is not valid JSON ({why}); {_FIX}")

    def _wrong(self, place: _Place, what: str) -> ConfigError:
        # The line is counted only now: counting it for every entry would cost the square of
        # the input's size.
        where = ", ".join((f"line {self._line(place.position)}", *place.inside))
        return ConfigError(f"{self.where}: {where}: {what}")


class _Place:
    """Where an entry is: the position its value begins at, and the elements it is in."""

    def __init__(self, position: int, *inside: str, in_tasks: bool = False) -> None:
        self.position = position
        self.inside = inside
        self.in_tasks = in_tasks

    def within_tasks(self, number: int) -> _Place:
        return _Place(
            self.position, *self.inside, f'element {number} of its "tasks"', in_tasks=True
        )


def _why(value: dict[object, object]) -> str:
    if "task_id" in value:
        return f'its "task_id" is {_kind(value["task_id"])}'
    if not value:
        return "it is empty"
    keys = [shown(key) for key in list(value)[:_KEYS_SHOWN]]
    more = ", …" if len(value) > _KEYS_SHOWN else ""
    return f"its keys: {', '.join(keys)}{more}"


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {shown(value)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return shown(value)
