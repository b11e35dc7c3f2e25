"""Task ID lists in every format stdin and ``--ids-file`` take: plain lines, JSON lines (KPS's
bind answers, waiter's own results), a JSON array (of objects or of ID strings), KPS's batch
answer; told apart by the first entry. Each bad input is one line naming its line (and
element) and the fix.

The shapes are checked on ``parse_id_list`` directly; the real program reads them from stdin
and a file, as a subprocess, against the simulated KPS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import PROJECT, TOKEN, config_error, kps_on_a_thread

from waiter import ConfigError
from waiter._cli._id_lists import parse_id_list
from waiter.testing._server import FakeKpsServer

DONE = "SUCCESS_RESET"
# What the bind results file of the README looks like: KPS's answers, collected in an array.
BIND_RESULTS = """[
  {"task_id": "aee8d2fe-1d4c-4a8e-9d1b-0c6f3e2a7b10"},
  {"task_id": "6b1c0a53-77e2-4f0c-b9a4-5d2e8c1f9a20"}
]
"""
BIND_IDS = ["aee8d2fe-1d4c-4a8e-9d1b-0c6f3e2a7b10", "6b1c0a53-77e2-4f0c-b9a4-5d2e8c1f9a20"]
FIX = 'give one JSON object with a "task_id" a line, a JSON array of them, or one task ID a line'


def refused(text: str, where: str = "stdin") -> str:
    with pytest.raises(ConfigError) as excinfo:
        parse_id_list(text, where)
    return config_error(excinfo)


# --- the shapes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        BIND_RESULTS,
        # JSON lines: KPS's answers appended one by one, with a comment and a blank line.
        '# tonight\'s binds\n{"task_id": "aee8d2fe-1d4c-4a8e-9d1b-0c6f3e2a7b10"}\n\n'
        '{"task_id": "6b1c0a53-77e2-4f0c-b9a4-5d2e8c1f9a20"}\n',
        # waiter's own result lines, fed back in.
        '{"task_id": "aee8d2fe-1d4c-4a8e-9d1b-0c6f3e2a7b10", "outcome": "timeout", "polls": 3}\n'
        '{"task_id": "6b1c0a53-77e2-4f0c-b9a4-5d2e8c1f9a20", "outcome": "error", "error": "x"}\n',
        # jq's pretty-printed stream (jq '.[]'), one object over several lines.
        '{\n  "task_id": "aee8d2fe-1d4c-4a8e-9d1b-0c6f3e2a7b10"\n}\n'
        '{\n  "task_id": "6b1c0a53-77e2-4f0c-b9a4-5d2e8c1f9a20"\n}\n',
        # An array of ID strings, and JSON strings a line (jq '.[].task_id' without -r).
        json.dumps(BIND_IDS),
        '"aee8d2fe-1d4c-4a8e-9d1b-0c6f3e2a7b10"\n"6b1c0a53-77e2-4f0c-b9a4-5d2e8c1f9a20"\n',
        # KPS's batch answer (keypairs/batch-associate).
        json.dumps({"tasks": [
            {"task_id": BIND_IDS[0], "server_id": "s1", "status": "SUCCESS"},
            {"task_id": BIND_IDS[1], "server_id": "s2", "status": "SUCCESS"},
        ]}, indent=2),
        # Windows editors put a byte order mark first.
        "\ufeff" + BIND_RESULTS,
    ],
    ids=["array", "json-lines", "results", "pretty-stream", "strings", "string-lines", "batch",
         "bom"],
)  # fmt: skip
def test_each_shape_gives_the_ids_in_order(text: str):
    assert parse_id_list(text, "stdin") == BIND_IDS


def test_plain_lines_are_read_as_before():
    text = "# from the deploy job\n\n  t1  \nt2\r\n   # indented\nt3\n"

    assert parse_id_list(text, "stdin") == ["t1", "t2", "t3"]


def test_the_first_entry_after_comments_decides_the_format():
    assert parse_id_list('# header\n\n[{"task_id": "t1"}]\n', "stdin") == ["t1"]
    assert parse_id_list("# header\nt1\n", "stdin") == ["t1"]


def test_an_empty_array_and_an_empty_input_give_no_ids():
    assert parse_id_list("[]", "stdin") == []
    assert parse_id_list("", "stdin") == []
    assert parse_id_list("# nothing\n", "stdin") == []


def test_duplicates_are_kept_here_for_the_check_to_drop():
    # read_task_ids checks every ID and waits on each once; the parser only reads.
    assert parse_id_list('[{"task_id": "t1"}, "t1", {"task_id": "t2"}]', "x") == ["t1", "t1", "t2"]


def test_a_big_array_gives_every_id():
    ids = [f"task-{n:07d}" for n in range(20_000)]
    text = json.dumps([{"task_id": task_id, "server_id": "c9aa197b"} for task_id in ids])

    assert parse_id_list(text, "stdin") == ids


# --- what is refused, and how it is said ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[{"task_id": "t1"}, {"id": "t2"}]',
         "stdin: line 1, element 2 of the array: the JSON object has no \"task_id\" string "
         "(its keys: 'id'); every object needs its task's ID there: fix or remove this one"),
        ('{"task_id": "t1"}\n{"error_code": "KPS.0002", "error_msg": "no such key pair"}\n',
         "stdin: line 2: the JSON object has no \"task_id\" string (its keys: 'error_code', "
         "'error_msg'); every object needs its task's ID there: fix or remove this one"),
        ('{"task_id": 12}',
         'stdin: line 1: the JSON object has no "task_id" string (its "task_id" is the number '
         "12); every object needs its task's ID there: fix or remove this one"),
        ('[\n  {"task_id": null}\n]',
         'stdin: line 2, element 1 of the array: the JSON object has no "task_id" string (its '
         '"task_id" is null)'),
        ("[{}]", 'stdin: line 1, element 1 of the array: the JSON object has no "task_id" '
         "string (it is empty)"),
        ('{"tasks": [{"task_id": "t1"}, {"status": "FAILED", "error_code": "KPS.2001"}]}',
         'stdin: line 1, element 2 of its "tasks": the JSON object has no "task_id" string '
         "(its keys: 'status', 'error_code')"),
        ('["t1", 7]', f"stdin: line 1, element 2 of the array: expected a JSON object with a "
         f'"task_id" or an ID string, got the number 7; {FIX}'),
        ('[["t1"]]', "stdin: line 1, element 1 of the array: expected a JSON object with a "
         '"task_id" or an ID string, got an array'),
        ('["t1", true]', "stdin: line 1, element 2 of the array: expected a JSON object with a "
         '"task_id" or an ID string, got true'),
    ],
    ids=["other-key", "kps-error-answer", "number", "null", "empty", "batch-failed",
         "number-in-array", "nested-array", "true"],
)  # fmt: skip
def test_an_entry_without_a_task_id_is_named(text: str, says: str):
    assert refused(text).startswith(says)


def test_an_object_with_many_keys_lists_only_a_few():
    text = json.dumps({f"key{n}": n for n in range(100)})

    assert "(its keys: 'key0', 'key1', 'key2', 'key3', 'key4', …)" in refused(text)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"task_id": "t1"}\n{"task_id": "t2"\n',
         "line 2 is not valid JSON (the value that begins here never ends)"),
        ('{"task_id": "t1"}\n{"task_id": "t2"\n{"task_id": "t3"}\n',
         "line 3 is not valid JSON (Expecting ',' delimiter, column 1, in the value that "
         "begins on line 2)"),
        ('[\n  {"task_id": "t1"},\n  {"task_id" "t2"}\n]',
         "line 3 is not valid JSON (Expecting ':' delimiter, column 14)"),
        ('[{"task_id": "t1"},]', "line 1 is not valid JSON (Expecting value, column 20)"),
        ('[{"task_id": "t1"} {"task_id": "t2"}]',
         "line 1 is not valid JSON (Expecting ',' delimiter or ']', column 20)"),
        ('# header\n[\n  {"task_id": "t1"}\n',
         "line 2 is not valid JSON (the array that begins here never ends)"),
        ('{"task_id": "t1"}\nt2\n', "line 2 is not valid JSON (Expecting value, column 1)"),
        ('[{"task_id": "t1"}]\n]', "line 2 is not valid JSON (Expecting value, column 1)"),
        ("[" * 100_000, "line 1 is not valid JSON (nested too deeply)"),
        ('{"a": ' * 50_000, "line 1 is not valid JSON (nested too deeply)"),
        ('[{"task_id": "t1", "n": ' + "1" * 5000 + "}]",
         "line 1 is not valid JSON (a number too long to read)"),
    ],
    ids=["cut-short", "unclosed-line", "missing-colon", "trailing-comma", "missing-comma",
         "unclosed-array", "plain-after-json", "stray-bracket", "deep-arrays", "deep-objects",
         "5000-digits"],
)  # fmt: skip
def test_broken_json_names_the_line_and_the_formats(text: str, says: str):
    message = refused(text, where="--ids-file binds.json")

    assert message == f"--ids-file binds.json: {says}; {FIX}"


# --- the real program, stdin and a file -----------------------------------------------------


@pytest.fixture
def server() -> Iterator[FakeKpsServer]:
    with kps_on_a_thread(timelines_from_first_poll=True) as server:
        for task_id in BIND_IDS:
            server.add_task(task_id, [(0, "RUNNING_RESET"), (0.1, DONE)])
        yield server


def waiter_run(server: FakeKpsServer, *args: str, stdin: str = "") -> tuple[int, list[Any], str]:
    """``python -m waiter ARGS`` aimed at the simulated KPS: exit code, results, stderr."""
    flags = ["--endpoint", server.url, "--project-id", PROJECT, "--min-interval", "0.05",
             "--max-interval", "0.2", "--rate", "1000", "--log-format", "json"]  # fmt: skip
    ran = subprocess.run(
        [sys.executable, "-m", "waiter", *flags, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "WAITER_AUTH_TOKEN": TOKEN},
        timeout=60,
        check=False,
    )
    assert "Traceback" not in ran.stderr
    return ran.returncode, [json.loads(line) for line in ran.stdout.splitlines()], ran.stderr


def test_the_bind_results_file_on_stdin_needs_no_jq(server: FakeKpsServer):
    code, results, _ = waiter_run(server, "-", stdin=BIND_RESULTS)

    assert code == 0
    assert sorted(r["task_id"] for r in results) == sorted(BIND_IDS)
    assert {r["outcome"] for r in results} == {"success"}


def test_json_lines_from_a_file_and_ids_given_are_waited_on_once(
    server: FakeKpsServer, tmp_path: Path
):
    ids_file = tmp_path / "binds.jsonl"
    ids_file.write_text("".join(json.dumps({"task_id": t}) + "\n" for t in BIND_IDS * 2))

    code, results, _ = waiter_run(server, BIND_IDS[1], "--ids-file", str(ids_file))

    assert code == 0
    assert sorted(r["task_id"] for r in results) == sorted(BIND_IDS)  # each reported once
    assert {request.task_id for request in server.requests} == set(BIND_IDS)


def test_results_fed_back_in_wait_on_the_same_tasks(server: FakeKpsServer):
    _, first, _ = waiter_run(server, *BIND_IDS)

    code, again, _ = waiter_run(server, "-", stdin="".join(json.dumps(r) + "\n" for r in first))

    assert code == 0
    assert sorted(r["task_id"] for r in again) == sorted(BIND_IDS)


@pytest.mark.parametrize(
    ("stdin", "says"),
    [
        ('[{"task_id": "t1"}, {"taskId": "t2"}]',
         "stdin: line 1, element 2 of the array: the JSON object has no \"task_id\" string "
         "(its keys: 'taskId')"),
        ('{"task_id": "t1"}\n{"task_id": \n', "stdin: line 2 is not valid JSON"),
        ('[{"task_id": "../t1"}]', "task ID '../t1' is not valid: use 1-128 characters"),
        ("[" * 200_000, "stdin: line 1 is not valid JSON (nested too deeply)"),
    ],
    ids=["no-task-id", "broken", "bad-id", "deep"],
)  # fmt: skip
def test_the_real_program_refuses_bad_json_in_one_line(
    server: FakeKpsServer, stdin: str, says: str
):
    code, results, stderr = waiter_run(server, "-", stdin=stdin)

    assert (code, results) == (2, [])
    assert stderr.startswith(f"waiter: error: {says}")
    assert stderr.count("\n") == 1
    assert server.requests == []
