"""waiter: block until cloud tasks finish.

The public API is re-exported here; the implementation lives in private modules. Names are
loaded on first use, so ``python -m waiter --help`` does not pay for importing aiohttp.
Importing waiter configures nothing: its events go through structlog when the application has
configured it, else to the standard library's logger ``"waiter"`` (see :func:`log_to_stdlib`).
"""

from __future__ import annotations

from ._lazy import TYPE_CHECKING, lazy_names
from ._version import __version__

if TYPE_CHECKING:
    from ._config._settings import Settings
    from ._errors import ConfigError, WaiterError
    from ._event_log import log_to_stdlib
    from ._result import Outcome, TaskResult
    from ._waiter import Waiter, wait_for

__all__ = [
    "ConfigError",
    "Outcome",
    "Settings",
    "TaskResult",
    "Waiter",
    "WaiterError",
    "__version__",
    "log_to_stdlib",
    "wait_for",
]

_HOME = {
    "ConfigError": "._errors",
    "Outcome": "._result",
    "Settings": "._config._settings",
    "TaskResult": "._result",
    "Waiter": "._waiter",
    "WaiterError": "._errors",
    "log_to_stdlib": "._event_log",
    "wait_for": "._waiter",
}


__getattr__, __dir__ = lazy_names(__name__, _HOME, __all__)
