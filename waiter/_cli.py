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
from contextlib import redirect_stderr, redirect_stdout
from importlib.metadata import version
from pathlib import Path
from typing import NoReturn, TextIO

from ._config import render_toml, resolve
from ._errors import ConfigError
from ._output import ResultPrinter
from ._result import Outcome, TaskResult
from ._settings import SPECS, Settings
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
        if spec.parse.__name__ == "parse_bool":
            options["action"] = "store_const"
            options["const"] = True
        elif spec.parse.__name__ == "parse_patterns":
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
    from ._logs import configure_logging
    from ._waiter import Waiter

    waiter = Waiter(settings)  # checks credentials and endpoint before any logging or polling
    log_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not stderr.isatty()
    )
    secrets = (settings.token, settings.secret_key, settings.security_token, settings.access_key)
    configure_logging(
        json=log_json, level=settings.log_level, stream=stderr, secrets=[s for s in secrets if s]
    )
    text = settings.output == "text" or (settings.output == "auto" and stdout.isatty())
    printer = ResultPrinter(text=text, stream=stdout, task_ids=task_ids)

    loop = asyncio.get_running_loop()
    started = loop.time()
    interrupted_by: list[int] = []

    def interrupt(signum: int) -> None:
        if not interrupted_by:
            interrupted_by.append(signum)
            waiter.stop(f"interrupted by {signal.Signals(signum).name}")

    for signum in _SIGNAL_EXIT:
        loop.add_signal_handler(signum, interrupt, signum)
    results: list[TaskResult] = []
    try:
        async with waiter:
            async for result in waiter.as_completed(task_ids):
                results.append(result)
                printer.result(result)
    finally:
        for signum in _SIGNAL_EXIT:
            loop.remove_signal_handler(signum)
    printer.summary(results, loop.time() - started)
    if interrupted_by:
        # Interruption wins over what the finished tasks said: the wait was not completed.
        return _SIGNAL_EXIT[signal.Signals(interrupted_by[0])]
    return exit_code(results)
