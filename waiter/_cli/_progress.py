"""Progress while waiting: a live block on a terminal, a periodic event in CI logs.

On a terminal the block is a summary line and, while only a few tasks are left, one line for
each with its last status, as ``gh run watch`` shows its jobs. Every line is cut to the
terminal's width, measured at each redraw: a line that wrapped would leave a copy of itself on
the screen at every redraw.

No progress library: a block is redrawn with three ANSI sequences (carriage return, erase
line, cursor up), and rich or tqdm would add more start-up time to every run than the whole
block costs to draw.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

import structlog

from .._event_log import BestEffortLog
from .._redact import printable, redact
from .._result import Outcome, TaskResult
from ._columns import ELLIPSIS, columns, ellipsis_for, fit, pad, terminal_size

if TYPE_CHECKING:
    from .._engine._engine import PendingTask

__all__ = ["MAX_TASK_LINES", "LiveBlock", "Progress", "task_lines"]

# Up to this many tasks left, each has a line of its own under the summary.
MAX_TASK_LINES = 5
# A task ID in a task's line is cut to fit the width, but never shorter than this.
_SHORTEST_ID = 12

_CLEAR_LINE = "\r\x1b[2K"  # back to column 0, erase the line
_UP_AND_CLEAR = "\x1b[A\x1b[2K"  # one line up, erase it


class LiveBlock:
    """A few lines kept at the bottom of a terminal; whatever is written through it prints above.

    Given to structlog as its output file, so log lines never run through the block. Each draw
    erases the lines drawn before (cursor up, erase line) and writes the new ones, each cut to
    one column short of the width: a line that fills the last column leaves some terminals'
    cursor on the next row, and the next erase would miss a row. When the terminal has too few
    rows for the whole block, only its first line is shown.

    Drawing is best effort: once the terminal cannot be written (it went away), the block stops
    drawing itself, and log lines written through it fail as they would on the terminal.
    """

    def __init__(
        self, stream: TextIO, *, size: Callable[[], tuple[int, int]] | None = None
    ) -> None:
        self._stream = stream
        self._size = size or (lambda: terminal_size(stream))
        self.ellipsis = ellipsis_for(stream)
        self._lines: list[str] = []  # what to show, before cutting
        self._drawn = 0  # how many lines are on the screen now

    def write(self, text: str) -> int:
        with self.above():
            self._stream.write(text)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def width(self) -> int:
        """The columns a line of the block may take now (the terminal's, less one)."""
        return self._size()[0] - 1

    def show(self, lines: list[str]) -> None:
        """Replace what the block shows (one redraw, erase and lines in one write)."""
        self._lines = lines
        self._emit(self._erase() + self._frame())

    @contextmanager
    def above(self) -> Iterator[None]:
        """Erase the block, let the caller print, then draw the block again below."""
        if self._drawn:
            # Flushed now: what the caller prints may go through another stream (stdout).
            self._emit(self._erase())
        yield
        if self._lines:
            self._emit(self._frame())

    def close(self) -> None:
        """Give the block's place back (to the summary)."""
        self._lines = []
        if self._drawn:
            self._emit(self._erase())

    def _erase(self) -> str:
        if not self._drawn:
            return ""
        erase = _CLEAR_LINE + _UP_AND_CLEAR * (self._drawn - 1)
        self._drawn = 0
        return erase

    def _frame(self) -> str:
        width, height = self._size()
        lines = self._lines if len(self._lines) < height else self._lines[:1]
        self._drawn = len(lines)
        return "\n".join(fit(line, width - 1, self.ellipsis) for line in lines)

    def _emit(self, text: str) -> None:
        if not text:
            return
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            # The terminal is gone: nothing left to keep drawn.
            self._lines = []
            self._drawn = 0


def task_lines(tasks: Sequence[PendingTask], width: int, ellipsis: str = ELLIPSIS) -> list[str]:
    """One line a task, ``  <task_id>  <status>  <n> polls``, the columns lined up.

    When the lines would not fit ``width``, the task IDs are cut first (to no fewer than
    ``_SHORTEST_ID`` columns): the status is what the lines are for.
    """
    if not tasks:
        return []
    # The status came from a server: masked (again: cheap for a few) and escaped.
    statuses = [printable(redact(task.status)) if task.status else "-" for task in tasks]
    polls = [f"{task.polls} poll{'' if task.polls == 1 else 's'}" for task in tasks]
    status_width = max(columns(status) for status in statuses)
    rest = len("  ") + len("  ") + status_width + len("  ") + max(map(len, polls))
    longest_id = max(len(task.task_id) for task in tasks)  # task IDs are ASCII
    id_width = max(min(longest_id, width - rest), min(longest_id, _SHORTEST_ID))
    return [
        f"  {pad(fit(task.task_id, id_width, ellipsis), id_width)}  "
        f"{pad(status, status_width)}  {poll_count}"
        for task, status, poll_count in zip(tasks, statuses, polls, strict=True)
    ]


def _no_tasks(limit: int) -> Sequence[PendingTask]:
    return ()


class Progress:
    """Counts results; shows them on a live block, or logs them every ``every`` seconds.

    ``pending_tasks(limit)`` gives the unfinished tasks with their last status when at most
    ``limit`` are left (the Waiter's snapshot); it is asked only then, at each redraw.
    """

    def __init__(
        self,
        *,
        total: int,
        timeout: float,
        live: LiveBlock | None,
        every: float,
        pending_tasks: Callable[[int], Sequence[PendingTask]] = _no_tasks,
    ) -> None:
        self._total = total
        self._timeout = timeout
        self._live = live
        self._every = every
        self._pending_tasks = pending_tasks
        self._counts: Counter[Outcome] = Counter()
        self._started = 0.0

    def expect(self, total: int) -> None:
        """The number of tasks, known only once the run has started (``--all`` lists them)."""
        self._total = total
        self._refresh()

    def record(self, result: TaskResult) -> None:
        self._counts[result.outcome] += 1
        self._refresh()

    async def run(self) -> None:
        """Refresh until cancelled: twice a second on a terminal, else every ``every`` s."""
        self._started = asyncio.get_running_loop().time()
        if self._live is not None:
            while True:
                self._refresh()
                await asyncio.sleep(0.5)
        while True:
            await asyncio.sleep(self._every)
            self._log_event()

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.show(self.lines(self._live.width(), self._live.ellipsis))

    def lines(self, width: int, ellipsis: str = ELLIPSIS) -> list[str]:
        """The summary line, and a line for each task while at most MAX_TASK_LINES are left."""
        lines = [self.line()]
        if self._pending() <= MAX_TASK_LINES:
            lines += task_lines(self._pending_tasks(MAX_TASK_LINES), width, ellipsis)
        return lines

    def _pending(self) -> int:
        return self._total - sum(self._counts.values())

    def _numbers(self) -> dict[str, float | int]:
        elapsed = asyncio.get_running_loop().time() - self._started if self._started else 0.0
        return {
            "pending": self._pending(),
            "elapsed_s": round(elapsed, 1),
            "remaining_s": round(max(self._timeout - elapsed, 0.0), 1),
        }

    def line(self) -> str:
        numbers = self._numbers()
        done = ", ".join(f"{self._counts[o]} {o.value}" for o in Outcome if self._counts[o])
        return (
            f"waiter: {numbers['pending']} of {self._total} pending"
            + (f" | {done}" if done else "")
            + f" | {_clock(numbers['elapsed_s'])} elapsed, {_clock(numbers['remaining_s'])} left"
        )

    def _log_event(self) -> None:
        counts = {o.value: self._counts[o] for o in Outcome}
        BestEffortLog(structlog.get_logger("waiter")).info(
            "progress", tasks=self._total, **self._numbers(), **counts
        )


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"
