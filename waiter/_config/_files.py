"""Reading what a user points waiter at (token, profile, config and ID files, stdin), bounded.

``--token-file /dev/zero`` must not read forever, nor a 10 GB file fill the memory: each
input has a size no honest one comes near, and reading stops one byte past it.
"""

from __future__ import annotations

import os
from typing import BinaryIO, TextIO

__all__ = ["KIB", "MIB", "TooLarge", "read_at_most", "read_text_at_most", "size_text"]

KIB = 1024
MIB = 1024 * KIB


class TooLarge(Exception):
    """The input holds more than ``limit`` bytes (characters, for a text stream)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {size_text(limit)}")
        self.limit = limit


def size_text(limit: int) -> str:
    """``65536`` -> ``"64 KiB"``, ``67108864`` -> ``"64 MiB"``."""
    if limit >= MIB and limit % MIB == 0:
        return f"{limit // MIB} MiB"
    if limit >= KIB and limit % KIB == 0:
        return f"{limit // KIB} KiB"
    return f"{limit} bytes"


def read_at_most(source: str | os.PathLike[str] | BinaryIO, limit: int) -> bytes:
    """The bytes a file (given by its path) or an open binary stream holds, up to ``limit``.

    Raises OSError when it cannot be read (ValueError for a closed stream), and
    :class:`TooLarge` when it holds more than ``limit`` bytes.
    """
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            data = handle.read(limit + 1)
    else:
        data = source.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(limit)
    return data


def read_text_at_most(stream: TextIO, limit: int) -> str:
    """The same for a text stream that has no binary buffer (``io.StringIO``), in characters."""
    text = stream.read(limit + 1)
    if len(text) > limit:
        raise TooLarge(limit)
    return text
