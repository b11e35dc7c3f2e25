"""Task IDs: read from lists, checked, and made unique."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .._config._table import shown
from .._errors import ConfigError
from .._lazy import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TypeGuard

__all__ = ["check_task_ids", "is_task_id", "parse_id_lines"]

# IDs go into a URL path and log lines: a strict alphabet means one can never climb out of
# its path segment or smuggle a header.
_TASK_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def parse_id_lines(text: str) -> list[str]:
    """One ID a line; blank lines and lines starting with ``#`` are ignored."""
    ids = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            ids.append(stripped)
    return ids


def is_task_id(value: object) -> TypeGuard[str]:
    """1-128 characters of ``A-Z a-z 0-9 . _ -``, and not ``.`` or ``..``."""
    return isinstance(value, str) and bool(_TASK_ID.fullmatch(value)) and value not in {".", ".."}


def check_task_ids(task_ids: Iterable[str]) -> list[str]:
    """The IDs in first-seen order without duplicates; a malformed ID raises ConfigError.

    No IDs is no error here: the library waits on nothing (``wait_for([])`` is ``[]``); the
    command line, which has nothing to do then, says so in its own words.
    """
    if isinstance(task_ids, str):
        raise TypeError("task_ids must be a list of IDs, not a single string")
    unique = list(dict.fromkeys(task_ids))
    for task_id in unique:
        if not is_task_id(task_id):
            raise ConfigError(
                f"task ID {shown(task_id)} is not valid: use 1-128 characters of A-Z a-z 0-9 . _ -"
            )
    return unique
