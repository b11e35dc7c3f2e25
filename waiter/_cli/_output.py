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
from ._columns import ellipsis_for, fit, pad

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
# an error is 118 columns: it fits a 120-column terminal.
_COLUMNS = (
    ("OUTCOME", 9, False),  # "cancelled"
    ("STATUS", 15, False),
    ("SERVER_ID", 36, False),
    ("POLLS", 5, True),
    ("ELAPSED", 7, True),  # "1800.0s"
)
_HEADER = ("TASK_ID", *(name for name, _, _ in _COLUMNS), "ERROR")


class ResultPrinter:
    """Prints each result as its task ends, so a pipeline sees progress line by line.

    The text table's header goes out with the first row. Rows print as tasks end, so the
    columns are set from what is known at the start (the task IDs), and a value too long for
    its column is cut rather than allowed to push the others out of line.
    """

    def __init__(self, *, text: bool, stream: TextIO, task_ids: Sequence[str]) -> None:
        self._text = text
        self._stream = stream
        longest_id = max((len(task_id) for task_id in task_ids), default=0)
        self._id_width = max(longest_id, len("TASK_ID"))
        self._ellipsis = ellipsis_for(stream)
        self._header_printed = False

    def result(self, result: TaskResult) -> None:
        # TaskResult text is redacted where it is made; redacting again here is the defence in
        # depth for results made elsewhere (a caller's, a test's), and costs ~1 us a field.
        if self._text:
            line = self._line(_row(result))
            if not self._header_printed:
                line = self._line(_HEADER) + "\n" + line
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
        for (_, width, right), value in zip(_COLUMNS, middle, strict=True):
            cells.append(pad(fit(value, width, self._ellipsis), width, right=right))
        cells.append(error)
        return "  ".join(cells).rstrip()

    def summary(self, results: Sequence[TaskResult], elapsed_s: float) -> None:
        if not self._text:
            return
        counts = Counter(result.outcome for result in results)
        parts = [f"{counts[o]} {o.value}" for o in Outcome if counts[o]]
        counted = f": {', '.join(parts)}" if parts else ""  # none with no tasks (--all)
        self._stream.write(f"{len(results)} tasks in {elapsed_s:.1f} s{counted}\n")
        self._stream.flush()


def _row(result: TaskResult) -> tuple[str, ...]:
    # Task IDs passed check_task_ids; the status, server ID and error came from a server.
    return (
        result.task_id,
        result.outcome.value,
        _shown(result.status) if result.status else "-",
        _shown(result.server_id) if result.server_id else "-",
        str(result.polls),
        f"{result.elapsed_s:.1f}s",
        _shown(result.error) if result.error else "",
    )
