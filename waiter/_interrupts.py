"""SIGINT and SIGTERM for the command line, owned from its first line to its last.

Two phases, one owner. While the command line parses, checks and imports (no event loop yet),
a signal raises :class:`Interrupted`, which unwinds that work at once; the command line then
reports the tasks it knows of as ``cancelled``. While the event loop runs, the loop's own signal
handling takes over (no exception can land in the middle of a callback) and asks the Waiter to
stop, which reports every unfinished task as ``cancelled``. Either way the exit code is 130 or
143, and no ``KeyboardInterrupt`` traceback reaches the user.
"""

from __future__ import annotations

import signal
import threading

from ._exit import EXIT_SIGINT, EXIT_SIGTERM

# Not `from typing import ...`: this module loads with --help, where typing costs ~10 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable
    from types import FrameType

__all__ = ["SIGNAL_EXIT", "Interrupted", "Interrupts"]

SIGNAL_EXIT = {signal.SIGINT: EXIT_SIGINT, signal.SIGTERM: EXIT_SIGTERM}


class Interrupted(KeyboardInterrupt):
    """A signal arrived while no event loop was running.

    A KeyboardInterrupt, so that asyncio passes it through, as it does Ctrl-C, rather than
    logging it, should it land while a loop is being set up or torn down.
    """


class Interrupts:
    """Records the first SIGINT/SIGTERM; :attr:`exit_code` is what the run must exit with."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def exit_code(self) -> int | None:
        return None if self.received is None else SIGNAL_EXIT[signal.Signals(self.received)]

    @property
    def name(self) -> str:
        return signal.Signals(self.received).name if self.received is not None else ""

    def install(self) -> None:
        """Take SIGINT/SIGTERM over (only the main thread may; elsewhere this does nothing)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in SIGNAL_EXIT:
            self._previous[signum] = signal.signal(signum, self._raise)

    def uninstall(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]
        self._previous.clear()

    def quiet(self) -> None:
        """Ignore further signals: the last few lines are being written."""
        for signum in self._previous:
            signal.signal(signum, signal.SIG_IGN)

    def attach(self, loop: asyncio.AbstractEventLoop, on_signal: Callable[[], None]) -> None:
        """While ``loop`` runs: note each signal and call ``on_signal`` on the loop."""
        if not self._previous:
            return
        for signum in SIGNAL_EXIT:
            loop.add_signal_handler(signum, self._on_loop_signal, signum, on_signal)

    def detach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Back to raising :class:`Interrupted` (the loop's removal would restore the defaults)."""
        if not self._previous:
            return
        for signum in SIGNAL_EXIT:
            loop.remove_signal_handler(signum)
            signal.signal(signum, self._raise)

    def _note(self, signum: int) -> None:
        if self.received is None:
            self.received = signum

    def _raise(self, signum: int, frame: FrameType | None) -> None:
        self._note(signum)
        raise Interrupted

    def _on_loop_signal(self, signum: int, on_signal: Callable[[], None]) -> None:
        self._note(signum)
        on_signal()
