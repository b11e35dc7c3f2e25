"""Results on stdout: one JSON object a line, or an aligned table with a summary."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from ._result import Outcome, TaskResult

__all__ = ["ResultPrinter"]


class ResultPrinter:
    """Prints each result as its task ends, so a pipeline sees progress line by line."""

    def __init__(self, *, text: bool, stream: TextIO, task_ids: Sequence[str]) -> None:
        self._text = text
        self._stream = stream
        self._id_width = max((len(task_id) for task_id in task_ids), default=0)
        # Wide enough for every KPS status (SUCCESS_REPLACE is the longest, at 15).
        self._status_width = 15

    def result(self, result: TaskResult) -> None:
        if self._text:
            line = (
                f"{result.task_id:<{self._id_width}}  {result.outcome.value:<9}  "
                f"{result.status or '-':<{self._status_width}}  {result.polls:>4} polls  "
                f"{result.elapsed_s:>8.1f} s"
            )
            if result.error and result.outcome is not Outcome.FAILURE:
                line += f"  {result.error}"
        else:
            line = json.dumps(result.to_dict(), ensure_ascii=False)
        self._stream.write(line + "\n")
        self._stream.flush()

    def summary(self, results: Sequence[TaskResult], elapsed_s: float) -> None:
        if not self._text:
            return
        counts = Counter(result.outcome for result in results)
        parts = [f"{counts[o]} {o.value}" for o in Outcome if counts[o]]
        self._stream.write(f"{len(results)} tasks in {elapsed_s:.1f} s: {', '.join(parts)}\n")
        self._stream.flush()
