"""The README's Logs table names every event waiter can emit, and only those.

Event names are read from the source: the first argument of every ``.debug/.info/.warning/
.error/.exception`` call in ``waiter/``, when it is a string. The few names built at run time
(``f"{setting}_readable_by_others"``) are expanded from the settings that build them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "waiter"
README = ROOT / "README.md"

_LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}
# Events whose name is made from a setting's name: the settings that make one.
_BUILT_NAMES = {
    "{setting}_readable_by_others": (
        "token_file",
        "credentials_file",
        "api_auth_file",
        "id_token_file",
        "oidc_token_file",
        "pod_token_file",
    ),
}
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _names_in(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        # logger.info("x", ...), or a level picked first: log = logger.info ...; log("x", ...)
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if called not in _LEVELS and called != "log":
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and _EVENT_NAME.fullmatch(str(first.value)):
            names.add(first.value)
    return names


def _names_handed_to_helpers(tree: ast.AST) -> set[str]:
    """Event names a helper logs for its caller (``_warn_if_others_can_read(path, "x")``), given
    whole or built from a setting's name (``f"{setting}_readable_by_others"``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            template = ast.unparse(node)[2:-1]  # f"..." -> ...
            names |= {template.replace("{setting}", s) for s in _BUILT_NAMES.get(template, ())}
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _EVENT_NAME.fullmatch(node.value)
            and node.value.endswith("_readable_by_others")
        ):
            names.add(node.value)
    return names


def emitted_events() -> set[str]:
    names: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= _names_in(tree) | _names_handed_to_helpers(tree)
    return names


def documented_events() -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Logs\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names |= set(re.findall(r"`([a-z][a-z0-9_]*)`", first_cell))
    return names


def test_the_source_emits_the_events_everyone_relies_on():
    # The scan itself must find what the contract names, or the next test proves nothing.
    assert {"status_changed", "retry_scheduled", "task_ended", "run_finished"} <= emitted_events()


def test_every_event_waiter_emits_is_in_the_readme_logs_table():
    missing = emitted_events() - documented_events()
    assert not missing, f"events missing from the README's Logs table: {sorted(missing)}"


def test_the_readme_logs_table_names_no_event_waiter_does_not_emit():
    stale = documented_events() - emitted_events()
    assert not stale, f"the README's Logs table names events waiter never emits: {sorted(stale)}"
