"""``python -m waiter``."""

from ._cli import run

run()
