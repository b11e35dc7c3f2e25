"""Task IDs from the command line, stdin (``-``) and ``--ids-file``: read bounded, as UTF-8,
in any format ``_id_lists`` knows (plain lines, JSON lines, a JSON array)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from .._apis._task_ids import check_task_ids
from .._config._files import TooLarge, read_at_most, read_text_at_most, size_text
from .._config._table import shown
from .._errors import ConfigError
from ._id_lists import parse_id_list

__all__ = ["read_task_ids"]

# An ID list this long (a million IDs is 40 MB) is not one anybody means to wait on at once.
_ID_LIST_LIMIT = 64 * 1024 * 1024


def read_task_ids(
    given: Sequence[str],
    ids_file: str | None,
    stdin: TextIO | None,
    *,
    all_running: bool = False,
) -> list[str]:
    """The task IDs to wait on: those given, ``-`` read from stdin, and those of ``--ids-file``.

    Checked and without duplicates, in the order given. None at all is bad usage, unless
    ``all_running`` (``--all``) will add the tasks the listing shows.
    """
    ids: list[str] = []
    from_stdin = False
    for item in given:
        if item != "-":
            ids.append(item)
        elif not from_stdin:  # a second - would find stdin at its end
            from_stdin = True
            ids += parse_id_list(_read_stdin(stdin), "stdin")
    if ids_file:
        ids += parse_id_list(_read_ids_file(ids_file), _ids_file_name(ids_file))
    unique = check_task_ids(ids)
    if not unique and not all_running:
        # The library waits on nothing; a command given nothing is misused.
        raise ConfigError(
            "no task IDs given: pass them as arguments, with - (stdin), --ids-file or --all"
        )
    return unique


def _read_stdin(stdin: TextIO | None) -> str:
    """stdin's text: its bytes, decoded as UTF-8 here, whatever the locale says."""
    if stdin is None:  # started with stdin closed (<&-)
        raise ConfigError(
            "task IDs from - (stdin): stdin is closed; pipe the IDs in, or use --ids-file"
        )
    try:
        buffer = getattr(stdin, "buffer", None)
        if buffer is None:  # a text stream of its own (io.StringIO)
            return read_text_at_most(stdin, _ID_LIST_LIMIT)
        return _utf8(read_at_most(buffer, _ID_LIST_LIMIT), "stdin")
    except TooLarge as error:
        raise ConfigError(
            f"stdin is larger than {size_text(error.limit)}: more task IDs than one run takes; "
            "split the list"
        ) from None
    except UnicodeDecodeError:  # from a text stream that decodes by itself
        raise ConfigError("stdin is not UTF-8 text; task IDs are ASCII, one a line") from None
    except (OSError, ValueError) as error:  # closed, or not readable (a directory, EBADF)
        reason = getattr(error, "strerror", None) or str(error)
        raise ConfigError(f"task IDs from - (stdin): stdin cannot be read ({reason})") from None


def _ids_file_name(path: str) -> str:
    return f"--ids-file {shown(path, bare=True)}"


def _read_ids_file(path: str) -> str:
    where = _ids_file_name(path)
    try:
        return _utf8(read_at_most(path, _ID_LIST_LIMIT), where)
    except TooLarge as error:
        raise ConfigError(
            f"{where} is larger than {size_text(error.limit)}: more task IDs than one run "
            "takes; split the list"
        ) from None
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise ConfigError(f"{where} cannot be read ({reason})") from None


def _utf8(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(
            f"{where} is not UTF-8 text (line {line}); task IDs are ASCII, one a line"
        ) from None
