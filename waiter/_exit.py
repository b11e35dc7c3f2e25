"""Exit codes: what a pipeline can act on."""

from __future__ import annotations

import signal
from collections.abc import Sequence

from ._result import Outcome, TaskResult

__all__ = [
    "EXIT_ERROR",
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "SIGNAL_EXIT",
    "exit_code",
]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_TIMEOUT, EXIT_ERROR = 0, 1, 2, 3, 4
SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


def exit_code(results: Sequence[TaskResult]) -> int:
    """The contract's exit code for a set of results."""
    outcomes = {result.outcome for result in results}
    if Outcome.FAILURE in outcomes:
        return EXIT_FAILURE
    if Outcome.ERROR in outcomes:
        return EXIT_ERROR
    if Outcome.TIMEOUT in outcomes:
        return EXIT_TIMEOUT
    return EXIT_OK
