"""The JUnit XML report and the Markdown summary, read back as a CI system would."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from aiohttp import web
from helpers import PROJECT, TOKEN, kps_on_a_thread, run_main, serving, settings_for
from virtual_time import run_virtual

from waiter import wait_for
from waiter._cli._reports import append_markdown_summary, write_junit_xml
from waiter._errors import ConfigError
from waiter._result import Outcome, TaskResult

NASTY = "bad <answer> & \"quotes\" 'too'\x07 bell"


def result(
    task_id: str,
    outcome: Outcome,
    *,
    status: str | None = None,
    server_id: str | None = None,
    polls: int = 1,
    elapsed_s: float = 1.0,
    error: str | None = None,
    error_code: str | None = None,
    request_id: str | None = None,
) -> TaskResult:
    return TaskResult(
        task_id, outcome, status, server_id, polls, elapsed_s, error, error_code, request_id
    )


RESULTS = [
    result("t-ok", Outcome.SUCCESS, status="SUCCESS_RESET", server_id="srv-1", polls=3,
           elapsed_s=6.25),
    result("t-failed", Outcome.FAILURE, status="FAILED_RESET", server_id="srv-2", polls=2,
           elapsed_s=4.0, error="task ended with status FAILED_RESET"),
    result("t-error", Outcome.ERROR, status=None, polls=5, elapsed_s=30.5,
           error=f"KPS.0001: {NASTY}", error_code="KPS.0001", request_id="req-123"),
    result("t-timeout", Outcome.TIMEOUT, status="RUNNING_RESET", polls=9, elapsed_s=60.0),
    result("t-cancelled", Outcome.CANCELLED, status="READY_RESET", polls=1, elapsed_s=2.0),
]  # fmt: skip


def read_junit(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    return root


def cases_by_name(root: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in root.iter("testcase")}


# JUnit XML


def test_junit_counts_and_suite_attributes(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    write_junit_xml(path, RESULTS, elapsed_s=61.5, suite_name="kps-reset")

    assert path.read_bytes().startswith(b"<?xml version=")
    root = read_junit(path)
    (suite,) = root.findall("testsuite")
    for element in (root, suite):
        assert element.get("name") == "kps-reset"
        assert element.get("tests") == "5"
        assert element.get("failures") == "1"
        assert element.get("errors") == "3"  # error, timeout, cancelled
        assert element.get("skipped") == "0"
        assert element.get("time") == "61.500"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", suite.get("timestamp", ""))
    assert [case.get("name") for case in suite.findall("testcase")] == [r.task_id for r in RESULTS]
    for case in suite.findall("testcase"):
        assert case.get("classname") == "waiter.kps"  # the default task API


@pytest.mark.parametrize(
    ("api", "classname"),
    [("kps", "waiter.kps"), ("ecs-job", "waiter.ecs_job"), ("http", "waiter.http")],
)
def test_junit_classname_names_the_task_api(tmp_path: Path, api: str, classname: str) -> None:
    path = tmp_path / "junit.xml"
    write_junit_xml(path, RESULTS, elapsed_s=1.0, api=api)

    assert {case.get("classname") for case in read_junit(path).iter("testcase")} == {classname}


def test_junit_per_task_elements(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    write_junit_xml(path, RESULTS, elapsed_s=61.5)
    cases = cases_by_name(read_junit(path))

    ok = cases["t-ok"]
    assert ok.get("time") == "6.250"
    assert ok.find("failure") is None
    assert ok.find("error") is None
    assert ok.findtext("system-out") == "server_id: srv-1\nstatus: SUCCESS_RESET\npolls: 3\n"

    failure = cases["t-failed"].find("failure")
    assert failure is not None
    assert failure.get("type") == "FAILED_RESET"
    assert failure.get("message") == "task ended with status FAILED_RESET"
    assert "status: FAILED_RESET" in (failure.text or "")
    assert cases["t-failed"].find("error") is None

    timeout = cases["t-timeout"].find("error")
    assert timeout is not None
    assert timeout.get("type") == "timeout"
    assert timeout.get("message") == "still pending at the deadline"
    assert "status: RUNNING_RESET" in (timeout.text or "")

    cancelled = cases["t-cancelled"].find("error")
    assert cancelled is not None
    assert cancelled.get("type") == "cancelled"
    assert cases["t-cancelled"].find("failure") is None


def test_junit_escapes_markup_and_drops_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    write_junit_xml(path, RESULTS, elapsed_s=61.5)
    raw = path.read_bytes()
    assert b"\x07" not in raw
    assert b"<answer>" not in raw  # escaped, not markup

    error = cases_by_name(read_junit(path))["t-error"].find("error")
    assert error is not None
    clean = NASTY.replace("\x07", "")
    assert error.get("type") == "KPS.0001"
    assert error.get("message") == f"KPS.0001: {clean}"
    text = error.text or ""
    assert "outcome: error\n" in text
    assert "error code: KPS.0001\n" in text
    assert f"message: KPS.0001: {clean}\n" in text
    assert "request ID: req-123\n" in text
    assert "status:" not in text  # no status was ever reported


def test_junit_survives_every_invalid_character(tmp_path: Path) -> None:
    # All C0 controls, a lone surrogate (surrogateescape'd bytes) and U+FFFE/U+FFFF.
    junk = "".join(chr(c) for c in range(32)) + "\udcff\ufffe\uffff" + "end"
    bad = result("t-junk", Outcome.ERROR, status=junk, server_id=junk, error=junk, error_code=junk)
    path = tmp_path / "junit.xml"
    write_junit_xml(path, [bad], elapsed_s=1.0, suite_name=junk)

    root = read_junit(path)
    error = cases_by_name(root)["t-junk"].find("error")
    assert error is not None
    assert error.get("message") == "\t\n\nend"  # tab, LF and CR (as LF) are kept
    assert root.get("name") == "\t\n\nend"


def test_junit_with_no_tasks(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    write_junit_xml(path, [], elapsed_s=0.0)
    root = read_junit(path)
    assert root.get("tests") == "0"
    assert list(root.iter("testcase")) == []


def test_junit_write_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text("old report")
    write_junit_xml(path, RESULTS[:1], elapsed_s=1.0)
    write_junit_xml(path, RESULTS, elapsed_s=2.0)

    assert [p.name for p in tmp_path.iterdir()] == ["junit.xml"]
    assert read_junit(path).get("tests") == "5"
    assert path.stat().st_mode & 0o777 == 0o644


def test_junit_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "junit.xml"
    target.mkdir()  # os.replace cannot put a file over a directory
    with pytest.raises(ConfigError, match="--junit-xml"):
        write_junit_xml(target, RESULTS, elapsed_s=1.0)
    assert [p.name for p in tmp_path.iterdir()] == ["junit.xml"]
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("where", ["missing-dir", "under-a-file", "a-directory"])
def test_junit_unwritable_path_is_a_config_error(tmp_path: Path, where: str) -> None:
    path = {
        "missing-dir": tmp_path / "no" / "such" / "junit.xml",
        "under-a-file": tmp_path / "file" / "junit.xml",
        "a-directory": tmp_path / "dir",
    }[where]
    (tmp_path / "file").write_text("")
    (tmp_path / "dir").mkdir()
    with pytest.raises(ConfigError) as caught:
        write_junit_xml(path, RESULTS, elapsed_s=1.0)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    assert message.startswith("--junit-xml ")
    assert caught.value.setting == "junit_xml"


# Markdown summary


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|")]


def split_cells(row: str) -> list[str]:
    inner = row.strip()
    assert inner.startswith("|")
    assert inner.endswith("|")
    inner = inner[1:-1]
    cells, current, index = [], "", 0
    while index < len(inner):
        char = inner[index]
        if char == "\\" and index + 1 < len(inner):
            current += inner[index : index + 2]
            index += 2
            continue
        if char == "|":
            cells.append(current)
            current = ""
        else:
            current += char
        index += 1
    cells.append(current)
    return cells


def test_markdown_summary_heading_and_table(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    append_markdown_summary(path, RESULTS, elapsed_s=61.54)
    text = path.read_text(encoding="utf-8")

    assert text.splitlines()[0] == (
        "### waiter: 5 tasks, 1 success, 1 failure, 1 timeout, 1 error, 1 cancelled in 61.5 s"
    )
    rows = table_rows(text)
    assert rows[0] == "| task | outcome | status | server ID | polls | seconds | error |"
    assert len(rows) == 2 + len(RESULTS)
    assert rows[2] == "| t-ok | success | SUCCESS\\_RESET | srv-1 | 3 | 6.2 |  |"
    assert rows[5] == "| t-timeout | timeout | RUNNING\\_RESET | - | 9 | 60.0 |  |"
    assert "\x07" not in text
    assert "KPS.0001: bad \\<answer\\> \\& \"quotes\" 'too' bell" in rows[4]
    assert text.endswith("|\n\n")


def test_markdown_heading_counts_one_task(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    append_markdown_summary(path, RESULTS[:1], elapsed_s=3.0)
    assert path.read_text().splitlines()[0] == "### waiter: 1 task, 1 success in 3.0 s"


def test_markdown_pipes_and_newlines_do_not_break_the_table(tmp_path: Path) -> None:
    tricky = result(
        "t-pipe",
        Outcome.ERROR,
        status="ODD|STATUS",
        error="first | line\nsecond\r\nthird\rfourth \\| escaped \\",
    )
    path = tmp_path / "summary.md"
    append_markdown_summary(path, [*RESULTS, tricky], elapsed_s=1.0)
    rows = table_rows(path.read_text(encoding="utf-8"))

    assert len(rows) == 2 + len(RESULTS) + 1
    assert {len(split_cells(row)) for row in rows} == {7}
    last = split_cells(rows[-1])
    assert last[2].strip() == "ODD\\|STATUS"
    assert last[6].strip() == "first \\| line second third fourth \\\\\\| escaped \\\\"


def test_markdown_appended_twice_keeps_both_sections(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    append_markdown_summary(path, RESULTS[:2], elapsed_s=1.0)
    append_markdown_summary(path, RESULTS[2:], elapsed_s=2.0)
    text = path.read_text(encoding="utf-8")

    headings = [line for line in text.splitlines() if line.startswith("### waiter:")]
    assert headings == [
        "### waiter: 2 tasks, 1 success, 1 failure in 1.0 s",
        "### waiter: 3 tasks, 1 timeout, 1 error, 1 cancelled in 2.0 s",
    ]
    assert len(table_rows(text)) == (2 + 2) + (2 + 3)
    assert "|\n\n### waiter: 3 tasks" in text  # a blank line ends the first table


def test_markdown_after_text_without_a_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("some earlier step's text")
    append_markdown_summary(path, RESULTS[:1], elapsed_s=1.0)
    assert path.read_text().startswith("some earlier step's text\n\n### waiter: 1 task")


@pytest.mark.parametrize("where", ["missing-dir", "a-directory"])
def test_markdown_unwritable_path_is_a_config_error(tmp_path: Path, where: str) -> None:
    path = tmp_path / "no" / "summary.md" if where == "missing-dir" else tmp_path
    with pytest.raises(ConfigError) as caught:
        append_markdown_summary(path, RESULTS, elapsed_s=1.0)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    assert message.startswith("--summary-file ")
    assert caught.value.setting == "summary_file"


def test_markdown_after_text_ending_in_one_newline(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("| a table |\n")
    append_markdown_summary(path, RESULTS[:1], elapsed_s=1.0)
    assert path.read_text().startswith("| a table |\n\n### waiter: 1 task")


@pytest.mark.skipif(not Path("/dev/fd").is_dir(), reason="needs /dev/fd")
def test_markdown_to_a_pipe(tmp_path: Path) -> None:
    # --summary-file /dev/stdout in a pipeline: nothing to seek or peek at, the write still works.
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as stream:
        try:
            append_markdown_summary(Path(f"/dev/fd/{write_end}"), RESULTS[:1], elapsed_s=1.0)
        finally:
            os.close(write_end)
        text = stream.read().decode()
    assert text.startswith("### waiter: 1 task, 1 success in 1.0 s\n")


# A 403's encoded authorization message, from a real answer to both reports


def test_a_403s_encoded_authorization_message_reaches_both_reports(tmp_path: Path) -> None:
    blob = "QWxsb3dlZCBieSBub3RoaW5n" * 8 + "=="

    async def denied(request: web.Request) -> web.Response:
        body = {"error": {"code": "KPS.0403", "message": "denied",
                          "encoded_authorization_message": blob}}  # fmt: skip
        return web.json_response(body, status=403, headers={"X-Request-Id": "req-403"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", denied)

    async def scenario() -> list[TaskResult]:
        async with serving(app) as url:
            return await wait_for(["t1"], settings_for(url))

    results = run_virtual(scenario())
    [denied_result] = results
    assert denied_result.outcome is Outcome.ERROR
    shown = f"encoded authorization message: {blob}"
    assert shown in (denied_result.error or "")

    junit = tmp_path / "junit.xml"
    write_junit_xml(junit, results, elapsed_s=1.0)
    error = cases_by_name(read_junit(junit))["t1"].find("error")
    assert error is not None
    assert error.get("type") == "KPS.0403"
    assert shown in (error.get("message") or "")
    assert "message: KPS.0403: denied" in (error.text or "")
    assert shown in (error.text or "")
    assert "request ID: req-403" in (error.text or "")

    summary = tmp_path / "summary.md"
    append_markdown_summary(summary, results, elapsed_s=1.0)
    [row] = table_rows(summary.read_text(encoding="utf-8"))[2:]
    assert shown in split_cells(row)[-1]


# The command line's reports name the task API it polled


def test_the_command_lines_reports_name_the_api_and_show_the_server_id(tmp_path: Path) -> None:
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    with kps_on_a_thread() as server:
        server.add_task("job-1", [(0, "SUCCESS")])
        args = [
            "--endpoint", server.url, "--project-id", PROJECT, "--api", "ecs-job",
            "--min-interval", "0.05", "--rate", "1000", "--log-format", "json",
            "--junit-xml", str(junit), "--summary-file", str(summary), "job-1",
        ]  # fmt: skip
        code, stdout, stderr = run_main(args, {"WAITER_AUTH_TOKEN": TOKEN})

    assert code == 0, stderr
    server_id = json.loads(stdout)["server_id"]
    assert server_id
    [case] = read_junit(junit).iter("testcase")
    assert case.get("classname") == "waiter.ecs_job"
    [row] = table_rows(summary.read_text(encoding="utf-8"))[2:]
    assert split_cells(row)[3].strip() == server_id
