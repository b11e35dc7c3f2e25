"""SIGINT and SIGTERM for the command line, owned from its first line to its last.

One owner, two phases. Before the event loop runs (parsing, checks, imports), a signal is
noted, and acted on at the next safe point (:meth:`Interrupts.check`): an exception raised at
any bytecode could land inside an import and leave it half done. Only a read that may block
for good (task IDs from stdin) is made :meth:`~Interrupts.interruptible`. The command line then
reports the tasks it knows of as ``cancelled``. While the event loop runs, the loop's own signal
handling takes over and asks the Waiter to stop, which reports every unfinished task as
``cancelled``. Either way the exit code is 130 or 143, and no traceback reaches the user.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager

from .._lazy import TYPE_CHECKING
from ._exit import EXIT_SIGINT, EXIT_SIGTERM

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Iterator, Sequence
    from types import FrameType

__all__ = ["SIGNAL_EXIT", "Interrupted", "Interrupts"]

SIGNAL_EXIT = {signal.SIGINT: EXIT_SIGINT, signal.SIGTERM: EXIT_SIGTERM}
# Seconds between the ticks that act on a signal a blocking read missed (see interruptible).
_TICK = 0.2


class Interrupted(KeyboardInterrupt):
    """A signal arrived while no event loop was running: unwind, and report what is known."""


class Interrupts:
    """Records the first SIGINT/SIGTERM; :attr:`exit_code` is what the run must exit with."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, object] = {}
        self._raising = False

    @property
    def exit_code(self) -> int | None:
        return None if self.received is None else SIGNAL_EXIT[signal.Signals(self.received)]

    @property
    def name(self) -> str:
        return signal.Signals(self.received).name if self.received is not None else ""

    def install(self, held: Sequence[int] = ()) -> None:
        """Take SIGINT/SIGTERM over (only the main thread may; elsewhere this does nothing).

        ``held``: signals that came before, noted by ``python -m waiter``'s first lines.
        """
        for signum in SIGNAL_EXIT:
            # A signal the parent told us to ignore (a background job's SIGINT, nohup) stays
            # ignored, as every shell tool does.
            if signal.getsignal(signum) is signal.SIG_IGN:
                continue
            try:
                self._previous[signum] = signal.signal(signum, self._on_signal)
            except ValueError:  # not the main thread (main() called from a thread)
                return
        if held:
            self._note(held[0])

    def check(self) -> None:
        """A safe point: raise :class:`Interrupted` if a signal has come."""
        if self.received is not None:
            raise Interrupted

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """Within, a signal raises :class:`Interrupted` at once (for reads that may block).

        A signal that lands just before the read's system call begins wakes nothing (the
        classic lost wake-up: it interrupts no call, and the read then blocks for good), so a
        timer ticks meanwhile, and each tick acts on a signal noted but not yet acted on.
        """
        self.check()
        self._raising = True
        ticking = bool(self._previous)  # signal handlers are the main thread's alone
        if ticking:
            previous = signal.signal(signal.SIGALRM, self._tick)
            signal.setitimer(signal.ITIMER_REAL, _TICK, _TICK)
        try:
            yield
        finally:
            if ticking:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
            self._raising = False

    def uninstall(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]
        self._previous.clear()

    def quiet(self) -> None:
        """Ignore further signals: the last few lines are being written."""
        for signum in self._previous:
            signal.signal(signum, signal.SIG_IGN)

    def attach(self, loop: asyncio.AbstractEventLoop, on_signal: Callable[[], None]) -> None:
        """While ``loop`` runs: note each signal and call ``on_signal`` on the loop.

        A signal noted before (while the loop was being set up) is acted on at once.
        """
        for signum in self._previous:
            loop.add_signal_handler(signum, self._on_loop_signal, signum, on_signal)
        if self.received is not None:
            on_signal()

    def detach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Back to noting signals (the loop's removal alone would restore the defaults)."""
        for signum in self._previous:
            loop.remove_signal_handler(signum)
            signal.signal(signum, self._on_signal)

    def _note(self, signum: int) -> None:
        if self.received is None:
            self.received = signum

    def _tick(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            raise Interrupted

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._note(signum)
        if self._raising:
            raise Interrupted

    def _on_loop_signal(self, signum: int, on_signal: Callable[[], None]) -> None:
        self._note(signum)
        on_signal()
