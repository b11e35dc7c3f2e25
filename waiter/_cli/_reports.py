"""Reports for pipelines: a JUnit XML file and a Markdown summary.

CI systems show JUnit XML natively (GitHub Actions test reporters, GitLab CI
``artifacts:reports:junit``, Jenkins), so each task becomes one test case there. The Markdown
summary is appended, so ``--summary-file "$GITHUB_STEP_SUMMARY"`` adds a section to the job page.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .._errors import ConfigError
from .._redact import redact
from .._result import Outcome, TaskResult

__all__ = ["append_markdown_summary", "write_junit_xml"]

# Characters XML 1.0 cannot hold at all, not even as character references: C0 controls other
# than tab/newline/CR, lone surrogates (from surrogateescape'd bytes) and U+FFFE/U+FFFF. One of
# them in a cloud's error message would make the whole report unparsable, so they are dropped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Parsers turn CR and CRLF in text into LF anyway; doing it here keeps what we write and what a
# reader sees the same.
_LINE_BREAK = re.compile("\r\n?|\n")
# Characters with a meaning in GitHub-flavoured Markdown inline text: the table cell delimiter,
# the escape character itself, emphasis, code, links, HTML/autolinks, entities, strikethrough.
# A backslash before ASCII punctuation always means "this character, literally".
_MD_SPECIAL = re.compile(r"([\\|`*_\[\]<>&~])")

# Outcomes that count as JUnit errors: the task did not reach a verdict (or we could not read it).
_ERROR_OUTCOMES = (Outcome.ERROR, Outcome.TIMEOUT, Outcome.CANCELLED)
_DEFAULT_MESSAGE = {
    Outcome.FAILURE: "the task ended in a failure status",
    Outcome.TIMEOUT: "still pending at the deadline",
    Outcome.CANCELLED: "cancelled before the task ended",
    Outcome.ERROR: "the wait ended in an error",
}


def write_junit_xml(
    path: Path,
    results: Sequence[TaskResult],
    *,
    elapsed_s: float,
    suite_name: str = "waiter",
    api: str = "kps",
) -> None:
    """Write a JUnit XML report of ``results`` to ``path``, replacing it atomically.

    Each test case's classname names the task API (``api``: ``waiter.kps``,
    ``waiter.ecs_job``, ``waiter.http``), so a reader groups the tasks by what was polled.
    Raises ConfigError naming the path and ``--junit-xml`` when the file cannot be written.
    """
    counts = Counter(result.outcome for result in results)
    totals = {
        "tests": str(len(results)),
        "failures": str(counts[Outcome.FAILURE]),
        "errors": str(sum(counts[outcome] for outcome in _ERROR_OUTCOMES)),
        "skipped": "0",
        "time": _seconds(elapsed_s),
    }
    # Some readers (GitLab, several GitHub actions) take the totals from the root element, others
    # (Jenkins) from the suite, so both carry them.
    root = ET.Element("testsuites", {"name": _clean(suite_name), **totals})
    # The JUnit schema's timestamp has no zone; UTC keeps it unambiguous across runners.
    started = datetime.now(UTC) - timedelta(seconds=max(elapsed_s, 0.0))
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": _clean(suite_name),
            **totals,
            "timestamp": started.strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    # A dotted name, as JUnit readers split classnames at dots: "ecs-job" becomes "ecs_job".
    classname = "waiter." + _clean(api).replace("-", "_")
    for result in results:
        suite.append(_testcase(result, classname))
    ET.indent(root)
    document = ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
    _replace_atomically(path, document, flag="--junit-xml", setting="junit_xml")


def append_markdown_summary(path: Path, results: Sequence[TaskResult], *, elapsed_s: float) -> None:
    """Append a Markdown section (a heading with counts, then one table row a task) to ``path``.

    Raises ConfigError naming the path and ``--summary-file`` when the file cannot be written.
    """
    counts = Counter(result.outcome for result in results)
    parts = [f"{len(results)} task{'' if len(results) == 1 else 's'}"]
    parts += [f"{counts[outcome]} {outcome.value}" for outcome in Outcome if counts[outcome]]
    lines = [
        f"### waiter: {', '.join(parts)} in {elapsed_s:.1f} s",
        "",
        "| task | outcome | status | server ID | polls | seconds | error |",
        "|---|---|---|---|--:|--:|---|",
    ]
    for result in results:
        cells = [
            result.task_id,
            result.outcome.value,
            result.status or "-",
            result.server_id or "-",
            str(result.polls),
            f"{result.elapsed_s:.1f}",
            result.error or "",
        ]
        lines.append("| " + " | ".join(_md_cell(cell) for cell in cells) + " |")
    # A blank line must come before the heading, or it would join the last paragraph or table
    # another step left in the file.
    section = _separator(path) + "\n".join(lines) + "\n\n"
    try:
        # O_NONBLOCK for the open alone: a FIFO nobody reads would block it (and the run's end)
        # for good; it fails at once instead (ENXIO). Writing then blocks as usual.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o666)
        # newline="" writes "\n" as is on every platform: the file is read by Markdown renderers.
        with os.fdopen(fd, "a", encoding="utf-8", newline="") as handle:
            os.set_blocking(fd, True)
            handle.write(section)
    except OSError as error:
        raise _write_error(path, error, flag="--summary-file", setting="summary_file") from None


def _separator(path: Path) -> str:
    """The line breaks that put a blank line between what ``path`` ends with and our section."""
    try:
        # Only a regular file can be peeked at: opening a FIFO to read would block, and a pipe or
        # terminal (--summary-file /dev/stdout) has no end to look at.
        if not path.is_file():
            return ""
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(size - 2, 0))
            tail = handle.read()
    except OSError:
        return ""  # a file we may write but not read: the write itself will say if it fails
    if not tail or tail.endswith(b"\n\n"):
        return ""
    return "\n" if tail.endswith(b"\n") else "\n\n"


def _testcase(result: TaskResult, classname: str) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": classname,
            "name": _clean(result.task_id),
            "time": _seconds(result.elapsed_s),
        },
    )
    message = _clean(result.error or _DEFAULT_MESSAGE.get(result.outcome, ""))
    if result.outcome is Outcome.FAILURE:
        # The failure status (FAILED_RESET, ...) is the most useful "kind" a reader can group by.
        failure = ET.SubElement(
            case, "failure", {"message": message, "type": _clean(result.status or "failure")}
        )
        failure.text = _details(result)
    elif result.outcome in _ERROR_OUTCOMES:
        # A cloud error code (KPS.0001, APIGW.0301, ...) says more than "error"; for time-outs and
        # cancellations the outcome itself is the kind, whatever fault came last.
        kind = result.error_code if result.outcome is Outcome.ERROR else None
        error = ET.SubElement(
            case, "error", {"message": message, "type": _clean(kind or result.outcome.value)}
        )
        error.text = _details(result)
    system_out = ET.SubElement(case, "system-out")
    system_out.text = _clean(
        f"server_id: {result.server_id or '-'}\n"
        f"status: {result.status or '-'}\n"
        f"polls: {result.polls}\n"
    )
    return case


def _details(result: TaskResult) -> str:
    """The element text of a failure or error: every fact support would ask for, one a line."""
    fields = [
        ("outcome", result.outcome.value),
        ("status", result.status),
        ("error code", result.error_code),
        ("message", result.error),
        ("request ID", result.request_id),
    ]
    return _clean("".join(f"{name}: {value}\n" for name, value in fields if value))


def _replace_atomically(path: Path, data: bytes, *, flag: str, setting: str) -> None:
    # A temporary file in the same directory, then os.replace: a reader (or a CI upload racing
    # a rerun) sees the old report or the new one, never half of one.
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name[:64]}.", suffix=".tmp"
        )
    except OSError as error:
        raise _write_error(path, error, flag=flag, setting=setting) from None
    replaced = False
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file 0600; a report is meant to be shared (artifact uploaders, other
        # users on the runner), so keep the mode of the file it replaces, else take the mode a
        # plain open() would under the usual umask.
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            mode = 0o644
        os.chmod(temporary, mode)
        os.replace(temporary, path)
        replaced = True
    except OSError as error:
        raise _write_error(path, error, flag=flag, setting=setting) from None
    finally:
        # Also on Ctrl-C mid-write: no stray ".junit.xml.*.tmp" left for artifact globs to pick.
        if not replaced:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _write_error(path: Path, error: OSError, *, flag: str, setting: str) -> ConfigError:
    reason = error.strerror or type(error).__name__
    # The command line prints this as its one line on stderr, even if the path holds a newline.
    shown = _LINE_BREAK.sub(" ", str(path))
    return ConfigError(f"{flag} {shown} cannot be written ({reason})", setting=setting)


def _clean(text: str) -> str:
    # Redacted (again: results are redacted where they are made, reports are shared further)
    # after the characters are dropped, so that "sec\x01ret" cannot become a secret unmasked.
    return _LINE_BREAK.sub("\n", redact(_NOT_XML.sub("", text)))


def _md_cell(text: str) -> str:
    # Line breaks would end the table row, so a cell is kept on one line; runs of whitespace
    # (tabs included) shrink to one space, which is all Markdown would show anyway. Redacted
    # once the text is final but before the escapes, which would split a secret.
    one_line = redact(" ".join(_NOT_XML.sub("", text).split()))
    return _MD_SPECIAL.sub(r"\\\1", one_line)


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"
