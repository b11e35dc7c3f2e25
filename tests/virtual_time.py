"""An event loop whose clock jumps over idle waits, so tests of minutes run in milliseconds.

Its clock is virtual only: it stands still while the loop works and moves when the loop would
sleep, by exactly the sleep.

Real sockets still work: before jumping, the loop checks for ready I/O, and then gives the
kernel a moment (a fraction of a millisecond, real time) to finish loopback work it has
started, such as a TCP handshake. Only when nothing is ready after that, and no executor thread
is busy, does the clock jump to the next timer instead of sleeping.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable
from typing import Any

# Real seconds to let loopback I/O settle before deciding the loop is idle.
_SETTLE = 0.0

# Where every virtual clock starts: the same on every run, so a test's float arithmetic on the
# clock (and a coarse clock's rounding of it) does not hang on when the machine booted. Its size
# is a machine's after days of uptime, so the rounding the tests see is what a real one gives.
_ORIGIN = 500_000.0


class _SkippingSelector(selectors.DefaultSelector):
    def __init__(self, busy: Callable[[], bool]) -> None:
        super().__init__()
        self.skipped = 0.0
        self._busy = busy

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None or self._busy():
            # Only I/O or a worker thread can wake us: really wait for it.
            return super().select(timeout)
        ready = super().select(min(_SETTLE, timeout))
        if not ready:
            self.skipped += timeout
        return ready


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """Time moves only by the jumps: no real time leaks in, so a test reads the same on a busy
    machine as on an idle one (CPU time spent under load never shows up as seconds), and the same
    on every run (the clock starts at a fixed origin, not at the machine's monotonic time)."""

    def __init__(self) -> None:
        self._executor_jobs = 0
        self._skipping = _SkippingSelector(lambda: self._executor_jobs > 0)
        super().__init__(self._skipping)
        self._origin = _ORIGIN

    def time(self) -> float:
        return self._origin + self._skipping.skipped

    def run_in_executor(self, executor: Any, func: Any, *args: Any) -> asyncio.Future[Any]:
        future = super().run_in_executor(executor, func, *args)
        self._executor_jobs += 1
        future.add_done_callback(self._executor_job_done)
        return future

    def _executor_job_done(self, _: object) -> None:
        self._executor_jobs -= 1


def run_virtual(coro: Any) -> Any:
    """Run ``coro`` to completion on a fresh virtual-time loop."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)
