"""Progress while waiting: a live line on a terminal, a periodic event in CI logs.

No progress library: one redrawn line needs three ANSI sequences, and rich or tqdm would add
more start-up time to every run than the whole line costs to draw.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import structlog

from .._event_log import BestEffortLog
from .._result import Outcome, TaskResult

__all__ = ["LiveLine", "Progress"]

_CLEAR = "\r\x1b[2K"  # back to column 0, erase the line


class LiveLine:
    """One line kept at the bottom of a terminal; whatever is written through it prints above.

    Given to structlog as its output file, so log lines never run through the progress line.
    Drawing is best effort: once the terminal cannot be written (it went away), the line stops
    drawing itself, and log lines written through it fail as they would on the terminal.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._line = ""

    def write(self, text: str) -> int:
        with self.above():
            self._stream.write(text)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def show(self, line: str) -> None:
        self._line = line
        self._draw(_CLEAR + line)

    @contextmanager
    def above(self) -> Iterator[None]:
        """Clear the line, let the caller print, then draw the line again."""
        if self._line:
            self._draw(_CLEAR, flush=False)
        yield
        if self._line:
            self._draw(self._line)

    def close(self) -> None:
        """Give the line's place back (to the summary)."""
        if self._line:
            self._draw(_CLEAR)
        self._line = ""

    def _draw(self, text: str, *, flush: bool = True) -> None:
        try:
            self._stream.write(text)
            if flush:
                self._stream.flush()
        except (OSError, ValueError):
            self._line = ""  # the terminal is gone: nothing left to keep drawn


class Progress:
    """Counts results; shows them on a live line, or logs them every ``every`` seconds."""

    def __init__(self, *, total: int, timeout: float, live: LiveLine | None, every: float) -> None:
        self._total = total
        self._timeout = timeout
        self._live = live
        self._every = every
        self._counts: Counter[Outcome] = Counter()
        self._started = 0.0

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
            self._live.show(self.line())

    def _numbers(self) -> dict[str, float | int]:
        elapsed = asyncio.get_running_loop().time() - self._started if self._started else 0.0
        return {
            "pending": self._total - sum(self._counts.values()),
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
