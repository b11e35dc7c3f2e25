"""The command line: arguments -> settings -> wait -> results on stdout -> exit code.

``main(argv)`` returns the exit code and never calls ``sys.exit`` itself. Only argparse and the
settings table load before the arguments are parsed; asyncio, structlog and aiohttp load only
once there is something to wait on, so ``--help`` and usage errors answer at once.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout, suppress

from .._apis._task_ids import is_task_id
from .._config._table import (
    GROUPS,
    SPECS,
    Spec,
    choice,
    parse_bool,
    parse_path,
    parse_patterns,
)
from .._errors import ConfigError
from .._lazy import TYPE_CHECKING
from .._redact import printable
from .._version import __version__
from ._exit import EXIT_ERROR, EXIT_OK, EXIT_SIGINT, EXIT_USAGE
from ._interrupts import Interrupts

if TYPE_CHECKING:
    from typing import NoReturn, TextIO

    from .._config._settings import Loaded, Settings

__all__ = ["main", "run"]


_USAGE = """\
%(prog)s [OPTIONS] TASK_ID [TASK_ID ...]
       %(prog)s [OPTIONS] -                   (task IDs from stdin)
       %(prog)s [OPTIONS] --ids-file PATH
       %(prog)s [OPTIONS] --all               (every running KPS task)
       %(prog)s --demo"""

_DESCRIPTION = """\
Block until Huawei Cloud KPS tasks finish. Polls each task with exponential backoff until it
reaches a terminal status or the deadline passes, prints one result per task on stdout and logs
every step on stderr.

Each setting comes from its flag, else its environment variable [env: ...], else the config
file, else its default. Times are seconds or durations: 90, 1.5s, 10m, 1h30m."""

# Written out rather than imported from _run (EVENT_LOOP_VARIABLE), which --help must not load.
_EVENT_LOOP = """\
event loop: WAITER_EVENT_LOOP=auto (the default: uvloop's when installed, else asyncio's),
asyncio or uvloop."""

_EXIT_CODES = """\
exit codes: 0 every task succeeded, 1 a task failed, 4 an error (auth, not found, unknown
status), 3 still pending at the deadline, 2 bad usage, 130/143 interrupted."""

# --help's last sections: what only the environment (and the config file) can give.
_WITHOUT_FLAGS = "settings without a flag (environment variables [config key])"
_SECRETS = "credentials (environment variables only: never a flag, never in a config file)"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: a pipeline log should say what to fix.
        self.exit(EXIT_USAGE, f"waiter: error: {message} (see waiter --help)\n")

    def format_help(self) -> str:
        # The flags, then the settings only the environment and config file give, which
        # argparse has no place for; made here, so that a run never pays for them.
        formatter = self.formatter_class(prog=self.prog)
        for title, secret in ((_WITHOUT_FLAGS, False), (_SECRETS, True)):
            formatter.start_section(title)
            formatter.add_arguments(
                [_listed(s) for s in SPECS if s.flag is None and s.secret is secret]
            )
            formatter.end_section()
        formatter.add_text(_EVENT_LOOP)
        formatter.add_text(_EXIT_CODES)
        return f"{super().format_help()}\n{formatter.format_help()}"


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, told the width so that it does not import shutil to ask, and
    filling each paragraph of a text on its own (argparse's runs them all into one).

    (shutil brings zlib, bz2 and lzma along: a quarter of the time ``--help`` takes.)
    """

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_terminal_width())

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        fill = super()._fill_text  # not in the generator: super() needs the method's frame
        return "\n\n".join(fill(part, width, indent) for part in text.split("\n\n"))

    def _split_lines(self, text: str, width: int) -> list[str]:
        # A variable's name or a URL is never cut in two, however narrow the terminal: a
        # user copies them. (textwrap is loaded by argparse's own formatting anyway.)
        import textwrap

        return textwrap.wrap(
            " ".join(text.split()), width, break_long_words=False, break_on_hyphens=False
        )


def _terminal_width() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size(2).columns
    except (ValueError, OSError):
        columns = 100
    return max(columns - 2, 40)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="waiter",
        usage=_USAGE,
        description=_DESCRIPTION,
        formatter_class=_Formatter,
        add_help=False,
    )
    wait_on = parser.add_argument_group("what to wait on")
    wait_on.add_argument(
        "task_ids", nargs="*", metavar="TASK_ID",
        help="the tasks to wait on; - reads their IDs from stdin, as --ids-file reads a file",
    )  # fmt: skip
    wait_on.add_argument(
        "--ids-file", metavar="PATH",
        help="read task IDs from this file: one a line, JSON lines or a JSON array of objects "
        'with a "task_id" (KPS\'s bind answers, waiter\'s results)',
    )  # fmt: skip
    wait_on.add_argument(
        "--all", action="store_true",
        help="also wait on every task KPS's running-tasks listing shows at start (--api kps)",
    )  # fmt: skip
    wait_on.add_argument(
        "--demo", action="store_true",
        help="wait on three tasks of a simulated KPS on 127.0.0.1 (no cloud account needed); "
        "takes no task IDs, --ids-file, --all nor another --api",
    )  # fmt: skip
    groups = {name: parser.add_argument_group(title) for name, title in GROUPS.items()}
    for spec in SPECS:
        if spec.flag is not None:
            groups[str(spec.group)].add_argument(spec.flag, **_flag_options(spec))  # type: ignore[arg-type]
    logging = groups["logging"]
    logging.add_argument(
        "-v", dest="verbose", action="store_true", help="debug logs: the same as --log-level debug"
    )
    logging.add_argument(
        "-q", dest="quiet", action="store_true",
        help="warnings and errors only: the same as --log-level warning",
    )  # fmt: skip
    config = parser.add_argument_group("config and help")
    config.add_argument(
        "--config", metavar="PATH",
        help="read settings from this TOML file (see config.example.toml) [default: "
        "$XDG_CONFIG_HOME/waiter/config.toml if it exists] [env: WAITER_CONFIG]",
    )  # fmt: skip
    config.add_argument(
        "--show-config", action="store_true",
        help="print the settings in effect as TOML, each with where it came from, and exit",
    )  # fmt: skip
    config.add_argument("--version", action="version", version=f"waiter {__version__}")
    config.add_argument("-h", "--help", action="help", help="show this help and exit")
    return parser


def _flag_options(spec: Spec) -> dict[str, object]:
    """How argparse takes a setting's flag: the value is left raw, for the settings table to
    parse as it parses the environment's and the config file's."""
    options: dict[str, object] = {"dest": spec.name, "help": _help_line(spec)}
    if spec.parse is parse_bool:
        options["action"] = "store_const"
        options["const"] = spec.flag_sets
    elif spec.parse is parse_patterns:
        options["action"] = "append"
    options["metavar"] = _metavar(spec)
    return options


def _metavar(spec: Spec) -> str | None:
    if spec.parse is parse_bool:
        return None
    if isinstance(spec.parse, choice):
        return "{" + ",".join(spec.parse.options) + "}"
    if spec.is_duration:
        return "DURATION"
    if spec.parse is parse_path:
        return "PATH"
    return spec.metavar or spec.name.upper()


def _help_line(spec: Spec) -> str:
    """What the flag does, its default (from the table, as Settings has it) and variables."""
    text = spec.help
    default = None if spec.parse is parse_bool else spec.shown_default()
    if default:
        text += f" [default: {default}]"
    if spec.parse is parse_bool:  # the value that does what the flag does
        variables = [f"{name}={'true' if spec.flag_sets else 'false'}" for name in spec.env]
    else:
        variables = list(spec.env)
    if variables:
        text += f" [env: {', '.join(variables)}]"
    return text.replace("%", "%%")  # argparse %-formats help


def _listed(spec: Spec) -> argparse.Action:
    """A setting without a flag, as an entry of ``--help``: its variables and what it is."""
    text = spec.help if spec.key is None else f"{spec.help} [{spec.key}]"
    default = spec.shown_default()
    if default:
        text += f" [default: {default}]"
    return argparse.Action(
        option_strings=list(spec.env), dest=spec.name, nargs=0, help=text.replace("%", "%%")
    )


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


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    held_signals: Sequence[int] = (),
) -> int:
    """Run the command line; return the exit code. Never raises, never prints a traceback.

    ``held_signals``: SIGINT/SIGTERM that came before main() (see ``__main__.py``).
    """
    _hold_closed_standard_fds()
    stdout = stdout or sys.stdout or _closed("stdout")
    stderr = stderr or sys.stderr or _closed("stderr")
    interrupts = Interrupts()
    interrupts.install(held_signals)  # first: a signal from here on ends the run cleanly
    known = _Known()
    try:
        code = _main(
            argv,
            stdin=stdin or sys.stdin,
            stdout=stdout,
            stderr=stderr,
            env=env,
            interrupts=interrupts,
            known=known,
        )
        # A signal after the wait (while the loop closed) still says the run was interrupted.
        return interrupts.exit_code or code
    except KeyboardInterrupt:  # Interrupted: a signal before the wait could take it over
        interrupts.quiet()
        code = interrupts.exit_code or EXIT_SIGINT
        task_ids = known.task_ids or _ids_in(argv)
        unreported = [task_id for task_id in task_ids if task_id not in known.reported]
        if unreported:
            from ._run import print_cancelled

            why = f"interrupted by {interrupts.name or 'SIGINT'} before the wait began"
            print_cancelled(known.settings, unreported, why, stdout)
        return code
    except Exception as error:
        # A bug, not a usage error: still one line, and the error exit code.
        _say(stderr, f"waiter: internal error: {type(error).__name__}: {error} (please report it)")
        return EXIT_ERROR
    finally:
        interrupts.uninstall()


def _ids_in(argv: Sequence[str] | None) -> list[str]:
    """The task IDs on the command line, for a signal that came before they were parsed."""
    try:
        with open(os.devnull, "w") as nowhere, redirect_stdout(nowhere), redirect_stderr(nowhere):
            args = _build_parser().parse_args(argv)
    except SystemExit:
        return []
    return _valid_ids(args)


def _valid_ids(args: argparse.Namespace) -> list[str]:
    return list(dict.fromkeys(i for i in args.task_ids if is_task_id(i)))


class _Known:
    """What the command line knows so far, for reporting tasks when a signal cuts it short."""

    def __init__(self) -> None:
        self.task_ids: list[str] = []
        self.settings: Settings | None = None
        self.reported: set[str] = set()


def _main(
    argv: Sequence[str] | None,
    *,
    stdin: TextIO | None,
    stdout: TextIO,
    stderr: TextIO,
    env: Mapping[str, str] | None,
    interrupts: Interrupts,
    known: _Known,
) -> int:
    try:
        # argparse writes --help, --version and its errors to sys.stdout/sys.stderr.
        with redirect_stdout(stdout), redirect_stderr(stderr):
            args = _build_parser().parse_args(argv)
    except SystemExit as leaving:  # --help, --version and usage errors
        return leaving.code if isinstance(leaving.code, int) else EXIT_USAGE
    known.task_ids = _valid_ids(args)
    interrupts.check()  # the safe points: a signal so far ends the run here
    # Only now the heavier imports: --help, --version and flag errors never pay for them.
    from .._config._settings import load_settings
    from ._all_running import check_all_running
    from ._run import Streams, run_demo, run_wait
    from ._show_config import render_toml
    from ._task_id_input import read_task_ids

    streams = Streams(stdout, stderr, interrupts, known.reported, env)
    try:
        loaded = load_settings(flags=_flags(args), config_path=args.config, env=env)
        interrupts.check()
        if args.show_config:
            return _show(render_toml(loaded), stdout, stderr)
        settings = known.settings = loaded.settings
        if args.demo:
            _refuse_what_the_demo_ignores(args, loaded)
            return run_demo(settings, streams)
        if args.all:
            check_all_running(settings)
        with interrupts.interruptible():  # stdin may never end
            task_ids = known.task_ids = read_task_ids(
                args.task_ids, args.ids_file, stdin, all_running=args.all
            )
        return run_wait(settings, task_ids, streams, all_running=args.all)
    except ConfigError as error:
        # A message may quote a server (an IAM refusal): escaped, so it cannot drive the terminal.
        _say(stderr, f"waiter: error: {printable(str(error))}")
        return EXIT_USAGE


def _refuse_what_the_demo_ignores(args: argparse.Namespace, loaded: Loaded) -> None:
    """``--demo`` waits on its own tasks of a simulated KPS: other tasks or another API given
    with it would be ignored, which a user should hear rather than guess."""
    ignored = []
    if any(task_id != "-" for task_id in args.task_ids):
        ignored.append("the task IDs")
    if "-" in args.task_ids:
        ignored.append("- (task IDs from stdin)")
    if args.ids_file is not None:
        ignored.append("--ids-file")
    if args.all:
        ignored.append("--all")
    api = loaded.settings.api
    if api != "kps":
        source = loaded.sources.get("api", "")
        given = f"--api {api}" if source.startswith("flag") else f"api {api} from {source}"
        ignored.append(given if source.startswith("flag") else f"{given} (or add --api kps)")
    if ignored:
        listed = ", ".join(ignored[:-1]) + " and " + ignored[-1] if ignored[1:] else ignored[0]
        raise ConfigError(
            f"--demo waits on its own tasks of a simulated KPS and would ignore the rest: drop "
            f"{listed}"
        )


def _show(text: str, stdout: TextIO, stderr: TextIO) -> int:
    try:
        stdout.write(text)
        stdout.flush()
    except (OSError, ValueError) as error:
        _say(stderr, f"waiter: error: the settings cannot be printed: stdout: {error}")
        return EXIT_ERROR
    return EXIT_OK


def _say(stream: TextIO, line: str) -> None:
    """One line for the user; when even stderr is gone there is no one left to tell."""
    with suppress(OSError, ValueError):
        stream.write(line + "\n")
        stream.flush()


class _ClosedStream:
    """Stands in for a standard stream that was closed before waiter started (``>&-``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, f"{self.name} is closed")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _hold_closed_standard_fds() -> None:
    """Put /dev/null on fds 0-2 where they were closed (``>&-``), as daemons do.

    Otherwise the next socket takes the lowest free number, 1 say, and whatever believes fd 1
    is stdout writes into the connection (uvloop even aborts on closing it).
    """
    for fd, stream in ((0, sys.stdin), (1, sys.stdout), (2, sys.stderr)):
        if stream is not None:
            continue
        try:
            os.fstat(fd)
        except OSError:
            held = os.open(os.devnull, os.O_RDWR)
            if held != fd:  # a lower one was free too: it gets its own turn in this loop
                os.close(held)


def _closed(name: str) -> TextIO:
    return _ClosedStream(name)  # type: ignore[return-value]  # what waiter uses of a TextIO


def run(held_signals: Sequence[int] = ()) -> None:
    """Console-script entry point."""
    code = main(held_signals=held_signals)
    _quiet_broken_streams()
    sys.exit(code)


def _quiet_broken_streams() -> None:
    """Point a standard stream whose reader is gone at /dev/null.

    Otherwise Python's own flush at exit fails again and prints "Exception ignored ...
    BrokenPipeError" (the advice of the signal module's documentation).
    """
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            with suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
