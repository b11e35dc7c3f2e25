"""The command line: arguments -> settings -> wait -> results on stdout -> exit code.

``main(argv)`` returns the exit code and never calls ``sys.exit`` itself. aiohttp is imported
only once there is something to wait on, so ``--help`` and usage errors answer at once.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Mapping, Sequence
from contextlib import nullcontext, redirect_stderr, redirect_stdout
from importlib.metadata import version
from pathlib import Path
from typing import NoReturn, TextIO, cast

import structlog

from ._config import render_toml, resolve
from ._errors import ConfigError
from ._logs import configure_logging
from ._output import ResultPrinter
from ._preflight import check_ready
from ._progress import LiveLine, Progress
from ._reports import append_markdown_summary, write_junit_xml
from ._result import Outcome, TaskResult
from ._settings import SPECS, Settings, parse_bool, parse_patterns
from ._task_ids import check_task_ids, parse_id_lines

__all__ = ["exit_code", "main", "run"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_TIMEOUT, EXIT_ERROR = 0, 1, 2, 3, 4
_SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}

_DESCRIPTION = """\
Block until Huawei Cloud KPS tasks finish. Polls each task with exponential backoff until it
reaches a terminal status or the deadline passes, prints one result per task on stdout and logs
every step on stderr.

exit codes: 0 every task succeeded, 1 a task failed, 4 an error (auth, not found, unknown
status), 3 still pending at the deadline, 2 bad usage, 130/143 interrupted."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: a pipeline log should say what to fix.
        self.exit(EXIT_USAGE, f"waiter: error: {message} (see waiter --help)\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="waiter",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("task_ids", nargs="*", metavar="TASK_ID", help="task IDs; - reads stdin")
    parser.add_argument("--ids-file", metavar="FILE", help="read task IDs from FILE, one a line")
    parser.add_argument("--demo", action="store_true", help="run against a built-in simulated KPS")
    parser.add_argument("--config", metavar="PATH", help="config file (TOML)")
    parser.add_argument(
        "--show-config", action="store_true", help="print the effective settings and exit"
    )
    parser.add_argument("--version", action="version", version=f"waiter {version('task-waiter')}")
    for spec in SPECS:
        if spec.flag is None:
            continue
        options: dict[str, object] = {"dest": spec.name, "help": spec.help}
        if spec.parse is parse_bool:
            options["action"] = "store_const"
            options["const"] = spec.flag_sets
        elif spec.parse is parse_patterns:
            options["action"] = "append"
            options["metavar"] = "PATTERN"
        else:
            options["metavar"] = spec.name.upper()
        parser.add_argument(spec.flag, **options)  # type: ignore[arg-type]
    parser.add_argument(
        "-v", dest="verbose", action="store_true", help="debug logs (same as --log-level debug)"
    )
    parser.add_argument(
        "-q", dest="quiet", action="store_true", help="warnings only (same as --log-level warning)"
    )
    return parser


def _flags(args: argparse.Namespace) -> dict[str, object]:
    """The setting flags that were given, as raw values for the settings layer."""
    flags = {
        spec.name: getattr(args, spec.name)
        for spec in SPECS
        if spec.flag is not None and getattr(args, spec.name) is not None
    }
    if "log_level" not in flags and (args.verbose or args.quiet):
        flags["log_level"] = "debug" if args.verbose else "warning"
    return flags


def _read_task_ids(args: argparse.Namespace, stdin: TextIO) -> list[str]:
    ids: list[str] = []
    for item in args.task_ids:
        ids += parse_id_lines(stdin.read()) if item == "-" else [item]
    if args.ids_file:
        try:
            ids += parse_id_lines(Path(args.ids_file).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or type(error).__name__
            raise ConfigError(f"--ids-file {args.ids_file} cannot be read ({reason})") from None
    return check_task_ids(ids)


def exit_code(results: Sequence[TaskResult]) -> int:
    """The contract's exit code for a set of results."""
    outcomes = {result.outcome for result in results}
    if Outcome.FAILURE in outcomes:
        return EXIT_FAILURE
    if Outcome.ERROR in outcomes:
        return EXIT_ERROR
    if Outcome.TIMEOUT in outcomes:
        return EXIT_TIMEOUT
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run the command line; return the exit code."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    try:
        # argparse writes --help, --version and its errors to sys.stdout/sys.stderr.
        with redirect_stdout(stdout), redirect_stderr(stderr):
            args = _build_parser().parse_args(argv)
    except SystemExit as leaving:  # --help, --version and usage errors
        return leaving.code if isinstance(leaving.code, int) else EXIT_USAGE
    try:
        resolved = resolve(flags=_flags(args), config_path=args.config, env=env)
        if args.show_config:
            stdout.write(render_toml(resolved))
            return EXIT_OK
        settings = resolved.settings
        if args.demo:
            return _demo(settings, stdout=stdout, stderr=stderr)
        task_ids = _read_task_ids(args, stdin)
        return asyncio.run(_wait(settings, task_ids, stdout=stdout, stderr=stderr))
    except ConfigError as error:
        stderr.write(f"waiter: error: {error}\n")
        return EXIT_USAGE


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


def _demo(settings: Settings, *, stdout: TextIO, stderr: TextIO) -> int:
    from ._demo import demo_settings, demo_tasks, serve_demo

    async def demo() -> int:
        async with serve_demo() as endpoint:
            return await _wait(
                demo_settings(settings, endpoint), demo_tasks(), stdout=stdout, stderr=stderr
            )

    return asyncio.run(demo())


async def _wait(
    settings: Settings, task_ids: Sequence[str], *, stdout: TextIO, stderr: TextIO
) -> int:
    """Wait on the tasks, print each result as it ends, log a summary; return the exit code."""
    live = LiveLine(stderr) if settings.progress and stderr.isatty() else None
    # LiveLine has what a log writer uses of a file: write, flush, isatty.
    _configure_logging(settings, cast(TextIO, live) if live else stderr)
    # Everything that can be wrong with the settings is found before aiohttp is even imported.
    check_ready(settings)
    _check_report_paths(settings)
    from ._waiter import Waiter

    waiter = Waiter(settings)
    text = settings.output == "text" or (settings.output == "auto" and stdout.isatty())
    printer = ResultPrinter(text=text, stream=stdout, task_ids=task_ids)
    progress = Progress(
        total=len(task_ids), timeout=settings.timeout, live=live, every=settings.progress_every
    )

    loop = asyncio.get_running_loop()
    started = loop.time()
    interrupted_by: list[int] = []

    def interrupt(signum: int) -> None:
        if not interrupted_by:
            interrupted_by.append(signum)
            waiter.stop(f"interrupted by {signal.Signals(signum).name}")

    for signum in _SIGNAL_EXIT:
        loop.add_signal_handler(signum, interrupt, signum)
    progress_task = asyncio.create_task(progress.run())
    results: list[TaskResult] = []
    try:
        async with waiter:
            async for result in waiter.as_completed(task_ids):
                results.append(result)
                with live.above() if live else nullcontext():
                    printer.result(result)
                progress.record(result)
    finally:
        progress_task.cancel()
        if live is not None:
            live.close()
        for signum in _SIGNAL_EXIT:
            loop.remove_signal_handler(signum)
    elapsed = loop.time() - started
    printer.summary(results, elapsed)
    _write_reports(settings, results, elapsed)
    if interrupted_by:
        # Interruption wins over what the finished tasks said: the wait was not completed.
        return _SIGNAL_EXIT[signal.Signals(interrupted_by[0])]
    return exit_code(results)


def _configure_logging(settings: Settings, stream: TextIO) -> None:
    log_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not stream.isatty()
    )
    secrets = (settings.token, settings.secret_key, settings.security_token, settings.access_key)
    configure_logging(
        json=log_json, level=settings.log_level, stream=stream, secrets=[s for s in secrets if s]
    )


def _check_report_paths(settings: Settings) -> None:
    """A report that cannot be written is bad usage, found before the wait, not after it."""
    for flag, path in (
        ("--junit-xml", settings.junit_xml),
        ("--summary-file", settings.summary_file),
    ):
        if path is not None and not path.parent.is_dir():
            raise ConfigError(f"{flag} {path}: the folder {path.parent} does not exist")


def _write_reports(settings: Settings, results: Sequence[TaskResult], elapsed: float) -> None:
    # After the wait a failed report must not hide the outcome: log it, keep the exit code.
    try:
        if settings.junit_xml is not None:
            write_junit_xml(settings.junit_xml, results, elapsed_s=elapsed)
        if settings.summary_file is not None:
            append_markdown_summary(settings.summary_file, results, elapsed_s=elapsed)
    except ConfigError as error:
        structlog.get_logger("waiter").error("report_not_written", error=str(error))
