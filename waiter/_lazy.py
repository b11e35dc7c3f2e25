"""What keeps imports cheap: public names loaded on first use, and a ``TYPE_CHECKING`` that
does not import ``typing``.

``python -m waiter --help`` loads only the command line's parser, the settings table and the
errors; ``import waiter`` and ``import waiter.testing`` load nothing more until a name is used.
"""

from __future__ import annotations

import importlib

# Not typing.TYPE_CHECKING: importing typing costs --help about 6 ms of its ~70, and type
# checkers read any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

__all__ = ["TYPE_CHECKING", "lazy_names"]


def lazy_names(
    package: str, homes: Mapping[str, str], names: list[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` for names that live in its private modules.

    ``homes`` maps each name to its module, relative to ``package`` (``"._waiter"``). A name is
    imported on first use, then kept in the package's namespace.
    """

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(homes[name], package), name)
        setattr(importlib.import_module(package), name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__
