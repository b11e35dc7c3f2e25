"""``python -m waiter``."""

# First of all, hold SIGINT/SIGTERM: a signal while the rest imports is noted, and main() ends
# the run cleanly with it. The C module, because `signal` itself takes ~15 ms to import (enum),
# a window in which Ctrl-C would print a KeyboardInterrupt traceback.
import _signal  # type: ignore[import-not-found]  # no stubs: signal wraps it

_held: list[int] = []
for _signum in (_signal.SIGINT, _signal.SIGTERM):
    if _signal.getsignal(_signum) is not _signal.SIG_IGN:  # an ignored signal stays ignored
        _signal.signal(_signum, lambda signum, frame: _held.append(signum))

from ._cli._main import run  # noqa: E402

run(held_signals=_held)
