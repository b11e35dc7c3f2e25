"""Results on stdout: one JSON object a line, or an aligned table (a header, a row a task)
with a summary."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from .._redact import printable, redact
from .._result import Outcome, TaskResult
from ._columns import columns, ellipsis_for, fit, is_terminal, pad, terminal_size

__all__ = ["ResultPrinter"]

# Characters json.dumps(ensure_ascii=False) leaves raw in a string but a terminal acts on (DEL,
# C1 controls, bidi overrides and isolates) or some readers break lines at (U+2028, U+2029).
# C0 controls it escapes itself. Outside strings a JSON line holds only ASCII punctuation,
# digits and literals, so each of these is inside a string, where \uXXXX means the same.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match[0]):04x}"


def _shown(text: str) -> str:
    """A server's text for a table cell: redacted, then escaped (escapes would hide secrets)."""
    return printable(redact(text))


# The text table's columns between the task ID (as wide as the longest ID given) and the
# error (last, whole): (header, width, right-aligned). A value too long for its column is cut
# with an ellipsis, so it never shifts the columns after it: every KPS status fits
# (SUCCESS_REPLACE, 15), a server ID is a UUID (36). With 36-character task IDs a row without
# an error is 118 columns.
_COLUMNS = (
    ("OUTCOME", 9, False),  # "cancelled"
    ("STATUS", 15, False),
    ("SERVER_ID", 36, False),
    ("POLLS", 5, True),
    ("ELAPSED", 7, True),  # "1800.0s"
)
_GAP = "  "
# On a terminal too narrow for every column, this one goes first: a task's server ID is in
# the JSON output and the reports, and without it a row of UUID task IDs takes 80 columns.
_DROPPED_FIRST = "SERVER_ID"


def _layout(id_width: int, terminal_width: int | None) -> tuple[tuple[str, int, bool], ...]:
    """The columns a row shows: all of them, unless the terminal is too narrow for them."""

    def row_width(cols: Sequence[tuple[str, int, bool]]) -> int:
        return id_width + sum(len(_GAP) + width for _, width, _ in cols)

    if terminal_width is None or row_width(_COLUMNS) <= terminal_width:
        return _COLUMNS
    return tuple(column for column in _COLUMNS if column[0] != _DROPPED_FIRST)


class ResultPrinter:
    """Prints each result as its task ends, so a pipeline sees progress line by line.

    The text table's header goes out with the first row. Rows print as tasks end, so the
    columns are set from what is known at the start (the task IDs and, on a terminal, its
    width), and a value too long for its column is cut rather than allowed to push the others
    out of line. On a terminal the rows fit its width, but for the error, which is never cut
    (it is what a failed task's row is read for): ``SERVER_ID`` is left out when the terminal
    is too narrow for it, and the ``ERROR`` heading when there is no room left for it.
    """

    def __init__(self, *, text: bool, stream: TextIO, task_ids: Sequence[str]) -> None:
        self._text = text
        self._stream = stream
        longest_id = max((len(task_id) for task_id in task_ids), default=0)
        self._id_width = max(longest_id, len("TASK_ID"))
        self._ellipsis = ellipsis_for(stream)
        self._header_printed = False
        width = terminal_size(stream)[0] if text and is_terminal(stream) else None
        self._columns = _layout(self._id_width, width)
        header = ["TASK_ID", *(name for name, _, _ in self._columns)]
        fixed = columns(self._line([*header, ""]))
        heading_fits = width is None or fixed + len(_GAP) + len("ERROR") <= width
        self._header = [*header, "ERROR" if heading_fits else ""]

    def result(self, result: TaskResult) -> None:
        # TaskResult text is redacted where it is made; redacting again here is the defence in
        # depth for results made elsewhere (a caller's, a test's), and costs ~1 us a field.
        if self._text:
            line = self._line(self._row(result))
            if not self._header_printed:
                line = self._line(self._header) + "\n" + line
                self._header_printed = True
        else:
            fields = {
                key: redact(value) if isinstance(value, str) else value
                for key, value in result.to_dict().items()
            }
            # ensure_ascii=False keeps non-ASCII text readable; what a terminal would act on
            # is escaped after all.
            line = _JSON_UNSAFE.sub(_json_escape, json.dumps(fields, ensure_ascii=False))
        self._stream.write(line + "\n")
        self._stream.flush()

    def _line(self, values: Sequence[str]) -> str:
        task_id, *middle, error = values
        cells = [f"{task_id:<{self._id_width}}"]
        for (_, width, right), value in zip(self._columns, middle, strict=True):
            cells.append(pad(fit(value, width, self._ellipsis), width, right=right))
        cells.append(error)
        return _GAP.join(cells).rstrip()

    def _row(self, result: TaskResult) -> list[str]:
        # Task IDs passed check_task_ids; the status, server ID and error came from a server.
        cells = {
            "OUTCOME": result.outcome.value,
            "STATUS": _shown(result.status) if result.status else "-",
            "SERVER_ID": _shown(result.server_id) if result.server_id else "-",
            "POLLS": str(result.polls),
            "ELAPSED": f"{result.elapsed_s:.1f}s",
        }
        error = _shown(result.error) if result.error else ""
        return [result.task_id, *(cells[name] for name, _, _ in self._columns), error]

    def summary(self, results: Sequence[TaskResult], elapsed_s: float) -> None:
        if not self._text:
            return
        counts = Counter(result.outcome for result in results)
        parts = [f"{counts[o]} {o.value}" for o in Outcome if counts[o]]
        counted = f": {', '.join(parts)}" if parts else ""  # none with no tasks (--all)
        self._stream.write(f"{len(results)} tasks in {elapsed_s:.1f} s{counted}\n")
        self._stream.flush()
