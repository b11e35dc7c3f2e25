"""Exit codes: what a pipeline can act on (the contract's table)."""

__all__ = [
    "EXIT_ERROR",
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_SIGINT",
    "EXIT_SIGTERM",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_TIMEOUT, EXIT_ERROR = 0, 1, 2, 3, 4
# Interrupted: 128 + the signal's number, as a shell reports a process the signal ended.
EXIT_SIGINT, EXIT_SIGTERM = 130, 143
