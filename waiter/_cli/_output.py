"""Results on stdout: one JSON object a line, or an aligned table with a summary."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from .._redact import printable, redact
from .._result import Outcome, TaskResult

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


class ResultPrinter:
    """Prints each result as its task ends, so a pipeline sees progress line by line."""

    def __init__(self, *, text: bool, stream: TextIO, task_ids: Sequence[str]) -> None:
        self._text = text
        self._stream = stream
        self._id_width = max((len(task_id) for task_id in task_ids), default=0)
        # Wide enough for every KPS status (SUCCESS_REPLACE is the longest, at 15).
        self._status_width = 15

    def result(self, result: TaskResult) -> None:
        # TaskResult text is redacted where it is made; redacting again here is the defence in
        # depth for results made elsewhere (a caller's, a test's), and costs ~1 us a field.
        if self._text:
            # Task IDs passed check_task_ids; the status and error came from a server.
            status = _shown(result.status) if result.status else "-"
            line = (
                f"{result.task_id:<{self._id_width}}  {result.outcome.value:<9}  "
                f"{status:<{self._status_width}}  {result.polls:>4} polls  "
                f"{result.elapsed_s:>8.1f} s"
            )
            if result.error and result.outcome is not Outcome.FAILURE:
                line += f"  {_shown(result.error)}"
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

    def summary(self, results: Sequence[TaskResult], elapsed_s: float) -> None:
        if not self._text:
            return
        counts = Counter(result.outcome for result in results)
        parts = [f"{counts[o]} {o.value}" for o in Outcome if counts[o]]
        self._stream.write(f"{len(results)} tasks in {elapsed_s:.1f} s: {', '.join(parts)}\n")
        self._stream.flush()
