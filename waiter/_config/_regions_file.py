"""The SDK's regions file (``HUAWEICLOUD_SDK_REGIONS_FILE``, ``~/.huaweicloud/regions.yaml``).

The SDK reads it with PyYAML; waiter reads the subset the SDK documents, with the standard
library only, and refuses anything else with the line to fix::

    KPS:
      - id: cn-north-4
        endpoint: https://kms.cn-north-4.myhuaweicloud.com
      - id: ap-southeast-1
        endpoints:
          - https://a.example.com
          - https://b.example.com

A top-level ``SERVICE:`` key per service, a list of ``- id:`` items, each with ``endpoint``
and/or ``endpoints`` (a block list or ``[a, b]``); values plain or quoted; ``#`` comments.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from .._errors import ConfigError
from ._files import MIB, TooLarge, read_at_most, size_text
from ._table import shown

__all__ = ["read_regions_file"]

# A regions file is a few KiB; one this large is something else.
REGIONS_FILE_LIMIT = 1 * MIB

_SERVICE = re.compile(r"(?P<name>[A-Za-z][A-Za-z0-9_-]*)\s*:")
_ITEM = re.compile(r"-\s+(?P<key>\w+)\s*:\s*(?P<value>.*)")
_PAIR = re.compile(r"(?P<key>\w+)\s*:\s*(?P<value>.*)")
_LIST_ENTRY = re.compile(r"-\s+(?P<value>.+)")
_KEYS = ("id", "endpoint", "endpoints")


def read_regions_file(path: Path) -> dict[tuple[str, str], list[str]]:
    """``(SERVICE, region) -> endpoints`` for every entry; ConfigError naming the bad line."""
    where = f"regions file {shown(path, bare=True)}"
    try:
        text = read_at_most(path, REGIONS_FILE_LIMIT).decode("utf-8")
    except TooLarge as error:
        raise ConfigError(
            f"{where} is larger than {size_text(error.limit)}: not a regions file; point "
            "HUAWEICLOUD_SDK_REGIONS_FILE elsewhere"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else error.strerror
        raise ConfigError(f"{where} cannot be read ({reason})") from None
    return _parse(text, where)


def _parse(text: str, where: str) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    service: str | None = None
    item: dict[str, list[str]] | None = None
    in_endpoints = False

    def close() -> None:
        if service is not None and item is not None and item.get("id"):
            endpoints = [*item.get("endpoints", []), *item.get("endpoint", [])]
            if endpoints:
                found[(service, item["id"][0])] = endpoints

    for number, raw in enumerate(text.splitlines(), 1):
        body = _without_comment(raw).strip()
        if not body or body == "---":
            continue

        def bad(why: str, number: int = number) -> ConfigError:
            return ConfigError(
                f"{where}, line {number}: {why}; the file lists, per service, items of "
                "`- id: REGION` with `endpoint: URL` or `endpoints: [URL, ...]`"
            )

        if not raw[:1].isspace():
            close()
            service, item, in_endpoints = _service(body, bad), None, False
            continue
        if service is None:
            raise bad("an indented line before any service name")
        starts_item = (match := _ITEM.fullmatch(body)) is not None and match["key"] in _KEYS
        if in_endpoints and not starts_item and (entry := _LIST_ENTRY.fullmatch(body)):
            assert item is not None
            item.setdefault("endpoints", []).append(_scalar(entry["value"]))
            continue
        if starts_item:
            close()
            item = {}
        else:
            match = _PAIR.fullmatch(body)
        if match is None or item is None:
            raise bad("expected `- id: REGION` or a key of the item above")
        in_endpoints = _take(item, match["key"], match["value"].strip(), bad)
    close()
    return found


def _service(body: str, bad: Callable[[str], ConfigError]) -> str:
    match = _SERVICE.fullmatch(body)
    if not match:
        raise bad("expected a service name such as KPS:")
    return match["name"].upper()


def _take(
    item: dict[str, list[str]], key: str, value: str, bad: Callable[[str], ConfigError]
) -> bool:
    """Note one ``key: value`` of an item; True when a block list of endpoints follows."""
    if key not in _KEYS:
        raise bad(f"unknown key {shown(key)}")
    if key == "endpoints":
        if value.startswith("[") and value.endswith("]"):
            item["endpoints"] = [_scalar(v) for v in value[1:-1].split(",") if v.strip()]
            return False
        if value:
            raise bad("endpoints takes a list")
        return True
    if not value:
        raise bad(f"{key} has no value")
    item[key] = [_scalar(value)]
    return False


def _without_comment(line: str) -> str:
    # A "#" starts a comment at the line's start or after a space (as in YAML), not in a URL.
    if line.lstrip().startswith("#"):
        return ""
    return line.split(" #", 1)[0]


def _scalar(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
