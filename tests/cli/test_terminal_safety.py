"""Terminal safety: what a server sends is shown, never obeyed.

A status or error message can hold an escape sequence that retitles the window or clears the
screen, a carriage return that overwrites the line with a forged one, or a bidi override that
reverses what is shown. In the text table and the console log they appear as escapes
(``\\x1b``, ``\\r``, ``\\u202e``); JSON lines and JSON results carry them as JSON escapes.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import pytest
import structlog
from aiohttp import web
from helpers import served_on_a_thread

from waiter import Outcome, TaskResult
from waiter._cli._logs import configure_logging
from waiter._cli._main import main
from waiter._cli._output import ResultPrinter
from waiter._redact import printable

PROJECT = "0123456789abcdef0123456789abcdef"
TOKEN = "terminal-safety-token-d41c"
TITLE = "\x1b]0;pwned\x07"  # sets the terminal's window title
CLEAR = "\x1b[2J"  # clears the screen
FORGED = "\r\x1b[32mt0  success  SUCCESS_RESET  1 polls\x1b[0m"  # overwrites the line
REVERSED = "\u202eDESSAP"  # shown right to left: "PASSED"
# Anything a terminal acts on, newlines aside (the lines waiter itself writes).
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def test_printable_escapes_what_a_terminal_acts_on():
    assert printable(TITLE) == "\\x1b]0;pwned\\x07"
    assert printable(CLEAR + "\b\x7f") == "\\x1b[2J\\x08\\x7f"
    assert printable("a\rb\nc\td") == "a\\rb\\nc\\td"
    assert printable("\x9b31m \x85") == "\\x9b31m \\x85"  # C1: a one-byte CSI, NEL
    assert printable("\u202a\u202e\u2066\u2069") == "\\u202a\\u202e\\u2066\\u2069"
    assert printable("line\u2028break") == "line\\u2028break"


def test_printable_leaves_ordinary_text_alone():
    text = "FAILED_RESET: la clé n'existe pas — 密钥不存在 \\ back"

    assert printable(text) is text
    assert printable("two\nlines\x1b", keep_newlines=True) == "two\nlines\\x1b"


def _result(**fields: object) -> TaskResult:
    values: dict[str, object] = {
        "task_id": "t1", "outcome": Outcome.ERROR, "status": None, "server_id": None,
        "polls": 1, "elapsed_s": 1.0, "error": None,
    }  # fmt: skip
    values.update(fields)
    return TaskResult(**values)  # type: ignore[arg-type]


def test_the_text_table_shows_a_servers_control_characters_escaped_on_one_line():
    stream = io.StringIO()
    printer = ResultPrinter(text=True, stream=stream, task_ids=["t1"])

    printer.result(_result(status=TITLE, error=f"{CLEAR}boom{FORGED}\nnext {REVERSED}"))

    [header, line] = stream.getvalue().splitlines()  # no forged line, not even after a newline
    assert header.split() == [
        "TASK_ID", "OUTCOME", "STATUS", "SERVER_ID", "POLLS", "ELAPSED", "ERROR",
    ]  # fmt: skip
    assert "\\x1b]0;pwned\\x…" in line  # the status, escaped and cut to its column
    assert "\\x1b[2Jboom\\r\\x1b[32mt0  success" in line
    assert "\\nnext \\u202eDESSAP" in line
    assert not RAW_CONTROL.search(stream.getvalue())


def test_json_results_escape_c1_controls_and_bidi_overrides_and_stay_valid_json():
    stream = io.StringIO()
    printer = ResultPrinter(text=False, stream=stream, task_ids=["t1"])
    nasty = f"{REVERSED} \x85 \x9b2J \x7f \u2066x\u2069 \u2028 {TITLE}"

    printer.result(_result(status="RUNNING", server_id=nasty, error=nasty))

    line = stream.getvalue()
    assert not RAW_CONTROL.search(line)
    assert "\\u202e" in line
    decoded = json.loads(line)
    assert decoded["server_id"] == nasty  # the same value, only written safely
    assert decoded["error"] == nasty


def test_console_logs_show_control_characters_escaped():
    stream = io.StringIO()
    configure_logging(json=False, level="info", stream=stream, secrets=[])
    log = structlog.get_logger("waiter")

    log.info("status_changed", status=TITLE, task_id="t1")  # no space: not quoted by structlog
    log.warning("task_ended", error=f"{CLEAR} {FORGED} {REVERSED}")

    output = stream.getvalue()
    assert not RAW_CONTROL.search(output)
    assert "\\x1b]0;pwned\\x07" in output
    assert "\\x1b[2J \\r\\x1b[32mt0" in output
    assert "\\u202eDESSAP" in output
    assert "\\\\x1b" not in output  # escaped once, not twice
    assert len(output.splitlines()) == 2


# --- end to end: a server that answers with control characters -------------------------------


def _answer(task: str) -> web.Response:
    if task == "title":  # an unknown status: the task ends in an error
        return web.json_response({"task_status": TITLE, "server_id": "srv-1"})
    if task == "clear":
        message = f"{CLEAR}{FORGED}"
        return web.json_response({"error_code": "KPS.0400", "error_msg": message}, status=400)
    if task == "reversed":
        message = f"nope {REVERSED} \x85"
        return web.json_response({"error_code": "KPS.0403", "error_msg": message}, status=403)
    return web.json_response({"task_status": "SUCCESS_RESET", "server_id": f"srv {REVERSED}"})


TASKS = ["title", "clear", "reversed", "fine"]


@pytest.fixture
def hostile_server() -> Iterator[str]:
    """The server on a thread of its own, for the command line's own event loop."""

    async def task(request: web.Request) -> web.Response:
        return _answer(request.match_info["task"])

    app = web.Application()
    app.router.add_get("/v3/{project}/tasks/{task}", task)
    with served_on_a_thread(app) as url:
        yield url


def _run(url: str, output: str, log_format: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    args = [
        "--endpoint", url, "--project-id", PROJECT, "--min-interval", "0.05",
        "--max-interval", "0.2", "--timeout", "5", "--rate", "1000",
        "--output", output, "--log-format", log_format, *TASKS,
    ]  # fmt: skip
    env = {"WAITER_AUTH_TOKEN": TOKEN}
    code = main(args, stdin=io.StringIO(), stdout=stdout, stderr=stderr, env=env)
    return code, stdout.getvalue(), stderr.getvalue()


def test_text_output_and_console_logs_escape_what_the_server_sent(hostile_server: str):
    code, stdout, stderr = _run(hostile_server, "text", "console")

    assert code == 4, stderr
    for shown in (stdout, stderr):
        assert not RAW_CONTROL.search(shown)
    assert len(stdout.splitlines()) == 1 + len(TASKS) + 1  # the header, a row a task, the summary
    [title] = [line for line in stdout.splitlines() if line.startswith("title")]
    assert title.split()[2] == "\\x1b]0;pwned\\x…"  # the status column, escaped and cut
    assert "unknown status '\\x1b]0;pwned\\x07'" in title  # whole in the error
    [fine] = [line for line in stdout.splitlines() if line.startswith("fine")]
    assert "srv \\u202e" in fine  # the server ID column
    assert "\\x1b[2J\\r\\x1b[32mt0  success" in stdout
    assert "\\u202eDESSAP \\x85" in stdout
    assert "\\x1b]0;pwned\\x07" in stderr  # status_changed
    assert "\\x1b[2J\\r\\x1b[32mt0" in stderr  # task_ended


def test_json_output_and_json_logs_carry_escapes_only(hostile_server: str):
    code, stdout, stderr = _run(hostile_server, "json", "json")

    assert code == 4, stderr
    for shown in (stdout, stderr):
        assert not RAW_CONTROL.search(shown)
    results = {r["task_id"]: r for r in map(json.loads, stdout.splitlines())}
    assert results["title"]["status"] == TITLE
    assert results["fine"]["server_id"] == f"srv {REVERSED}"
    assert REVERSED in results["reversed"]["error"]
    events = [json.loads(line) for line in stderr.splitlines()]
    assert any(event.get("status") == TITLE for event in events)
