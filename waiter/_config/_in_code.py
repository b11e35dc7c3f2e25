"""What a setting takes when it is given in code: the Python type its field is annotated with.

The command line's values are text or TOML, which the table's parsers turn into these types
(``_table``). A value given in code is a Python object already, so only its type is checked
here, before the checks both share (``_settings.check_values``): a wrong one is a ConfigError
naming the field and what it takes, never a TypeError or AttributeError from deep inside a run.
Nothing is converted, so a field holds what its annotation says and ``mypy --strict`` sees
the same rules: a time is a number of seconds (a duration such as ``"10m"`` is the command
line's spelling), a path a :class:`pathlib.Path`, status patterns a tuple.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from .._errors import ConfigError
from ._table import (
    SPECS,
    Spec,
    choice,
    parse_bool,
    parse_count,
    parse_ids,
    parse_number,
    parse_path,
    parse_patterns,
    parse_seconds,
    parse_text,
    parse_whole_seconds,
    shown,
)

__all__ = ["check_types"]


def check_types(value: Callable[[str], object]) -> None:
    """Raise ConfigError for the first setting whose value (``value(name)``) has a type its
    field does not take, naming the field: ``timeout must be a number of seconds, got '10m'``."""
    for spec in SPECS:
        problem = _type_problem(spec, value(spec.name))
        if problem:
            raise ConfigError(f"{spec.name} {problem}", setting=spec.name)


def _type_problem(spec: Spec, value: object) -> str | None:
    if value is None and spec.default is None:  # the fields that may be left unset
        return None
    takes, fits = _takes(spec)
    if fits(value):
        return None
    # A secret is never echoed, not even when it is the wrong type.
    got = f"a value of type {type(value).__name__}" if spec.secret else shown(value)
    return f"must be {takes}, got {got}{_hint(spec, value)}"


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _strings(value: object) -> bool:
    """A non-empty tuple of non-empty strings."""
    return (
        isinstance(value, tuple)
        and bool(value)
        and all(isinstance(item, str) and item.strip() for item in value)
    )


_TAKES: dict[Callable[[object], object], tuple[str, Callable[[object], bool]]] = {
    parse_seconds: ("a number of seconds", _number),
    parse_number: ("a number", _number),
    parse_count: ("a whole number", _whole),
    parse_whole_seconds: ("a whole number of seconds", _whole),
    parse_bool: ("True or False", lambda value: isinstance(value, bool)),
    parse_text: ("a str", lambda value: isinstance(value, str)),
    parse_path: ("a pathlib.Path", lambda value: isinstance(value, Path)),
    parse_patterns: ('a tuple of status patterns such as ("SUCCESS_*",)', _strings),
    parse_ids: ('a tuple of IDs such as ("id1", "id2")', _strings),
}


def _takes(spec: Spec) -> tuple[str, Callable[[object], bool]]:
    if isinstance(spec.parse, choice):
        options = spec.parse.options
        return "one of " + ", ".join(options), lambda value: value in options
    return _TAKES[spec.parse]


def _hint(spec: Spec, value: object) -> str:
    """How to give what was meant, for the mistakes a Python user is likely to make."""
    if spec.parse in (parse_seconds, parse_number) and isinstance(value, float):
        return " (it must be finite)"
    if spec.parse is parse_seconds:
        if isinstance(value, timedelta):
            return f" (give its .total_seconds(): {value.total_seconds():g})"
        if isinstance(value, str):
            try:  # a duration as the command line writes it: say what it is in seconds
                return f" (give {parse_seconds(value):g})"
            except ValueError:
                return ""
    if spec.parse is parse_path and isinstance(value, str):
        return " (wrap it in pathlib.Path)"
    if spec.parse in (parse_patterns, parse_ids):
        if isinstance(value, str):
            return f" (one is a one-item tuple: ({shown(value)},))"
        if isinstance(value, list):
            return " (a tuple, not a list)"
    return ""
