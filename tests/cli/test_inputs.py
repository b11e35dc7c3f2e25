"""Bad input, as a user meets it: one line on stderr naming what to fix, exit 2, nothing else.

Whatever the input (stdin that is not UTF-8 or is closed, a file that never ends, a 50 MB task
ID, a password in a URL, a config file nested 100,000 deep), the command line says what is
wrong in one line, exits 2, prints nothing on stdout and no traceback, echoes no secret, and
never quotes a huge value whole. Most runs call ``waiter._cli._main.main`` with injected streams; a
few run ``python -m waiter`` where the real standard streams matter.
"""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import PROJECT, TOKEN

from waiter._cli._main import main

KIB, MIB = 1024, 1024 * 1024
PASSWORD = "pw-5ecret-81f2"
# Aimed at a closed port on this machine, with a short deadline: should an input slip
# through, the run fails fast instead of waiting on the network.
NOWHERE = ["--endpoint", "http://127.0.0.1:9", "--project-id", PROJECT, "--timeout", "1"]


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    def usage_error(self) -> str:
        """The one error line (without ``waiter: error: ``), checked as a user would see it."""
        assert "Traceback" not in self.stderr, self.stderr[-2000:]
        assert (self.code, self.stdout) == (2, ""), (self.code, self.stderr[:2000])
        assert self.stderr.startswith("waiter: error: "), self.stderr[:2000]
        assert self.stderr.endswith("\n"), self.stderr[:2000]
        assert self.stderr.count("\n") == 1, self.stderr[:2000]
        return self.stderr.removeprefix("waiter: error: ").removesuffix("\n")


@pytest.fixture
def run(home: Path) -> Callable[..., Ran]:
    def run(argv: list[str], *, env: Mapping[str, str] | None = None, stdin: object = "") -> Ran:
        stdout, stderr = io.StringIO(), io.StringIO()
        stream = io.StringIO(stdin) if isinstance(stdin, str) else stdin
        code = main(
            argv, stdin=stream, stdout=stdout, stderr=stderr,  # type: ignore[arg-type]
            env={"HOME": str(home), **(env or {})},
        )  # fmt: skip
        return Ran(code, stdout.getvalue(), stderr.getvalue())

    return run


def run_waiter(
    args: list[str],
    home: Path,
    *,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    preexec: Callable[[], None] | None = None,
) -> Ran:
    """``python -m waiter ARGS`` in a subprocess, its real standard streams, a bounded wait."""
    full_env = {**os.environ, "HOME": str(home), **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "waiter", *args],
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        env=full_env,
        timeout=60,
        preexec_fn=preexec,
        check=False,
    )
    return Ran(
        done.returncode,
        done.stdout.decode("utf-8", "backslashreplace"),
        done.stderr.decode("utf-8", "backslashreplace"),
    )


def binary_stdin(data: bytes, encoding: str = "utf-8", errors: str = "strict") -> io.TextIOWrapper:
    """A stdin like Python's own: text decoded by the locale's codec, over a binary buffer."""
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors=errors)


# --- stdin -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "errors"),
    [("ascii", "strict"), ("utf-8", "surrogateescape"), ("latin-1", "strict")],
    ids=["strict-ascii-locale", "utf-8-mode", "latin-1-locale"],
)
def test_stdin_that_is_not_utf8_is_refused_whatever_the_locale(run, encoding, errors):
    stdin = binary_stdin(b"task-1\n\xff\xfe-task\n", encoding, errors)

    message = run(["-"], stdin=stdin).usage_error()

    assert message == "stdin is not UTF-8 text (line 2); task IDs are ASCII, one a line"


def test_stdin_that_is_not_utf8_is_refused_by_the_real_program(home: Path):
    # A strict ASCII codec on stdin: Python itself would raise UnicodeDecodeError on read().
    ran = run_waiter(["-"], home, env={"PYTHONIOENCODING": "ascii", "LC_ALL": "C"},
                     input=b"task-1\n\xff\n")  # fmt: skip

    assert ran.usage_error() == "stdin is not UTF-8 text (line 2); task IDs are ASCII, one a line"


def test_a_closed_stdin_is_refused_when_ids_come_from_it(run, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "stdin", None)  # what Python makes of `<&-`

    message = run(["-"], stdin=None).usage_error()

    assert message == (
        "task IDs from - (stdin): stdin is closed; pipe the IDs in, or use --ids-file"
    )


@pytest.mark.parametrize("make", [io.StringIO, lambda: binary_stdin(b"task-1\n")])
def test_a_stdin_that_cannot_be_read_is_refused(run, make):
    stdin = make()
    stdin.close()

    message = run(["-"], stdin=stdin).usage_error()

    assert message.startswith("task IDs from - (stdin): stdin cannot be read (")


def test_the_real_program_with_stdin_closed(home: Path):
    ran = run_waiter(["-"], home, preexec=lambda: os.close(0))

    assert ran.usage_error() == (
        "task IDs from - (stdin): stdin is closed; pipe the IDs in, or use --ids-file"
    )


def test_stdin_is_read_up_to_64_mib(run):
    stdin = binary_stdin(b"task-1\n" * (64 * MIB // 7 + 1))

    message = run(["-"], stdin=stdin).usage_error()

    assert message == (
        "stdin is larger than 64 MiB: more task IDs than one run takes; split the list"
    )


# --- files that never end --------------------------------------------------------------------


def _one_gib_of_memory() -> None:
    # The old behaviour was to read /dev/zero until memory ran out: cap it, to fail fast.
    resource.setrlimit(resource.RLIMIT_AS, (1024 * MIB, 1024 * MIB))


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--token-file", "/dev/zero", "task-1"], {},
         "--token-file /dev/zero is larger than 64 KiB: not a token file; fix the path"),
        (["task-1"], {"HUAWEICLOUD_SDK_CREDENTIALS_FILE": "/dev/zero"},
         "credentials file /dev/zero (from environment HUAWEICLOUD_SDK_CREDENTIALS_FILE) is "
         "larger than 64 KiB: not a credentials file"),
        (["--ids-file", "/dev/zero"], {},
         "--ids-file /dev/zero is larger than 64 MiB: more task IDs than one run takes"),
        (["--api", "http", "--url-template", "http://127.0.0.1:9/{task_id}", "--status-field",
          "/s", "--success", "ok", "--failure", "no", "--pending", "p",
          "--api-auth-file", "/dev/zero", "task-1"], {},
         "--api-auth-file /dev/zero is larger than 64 KiB: not a token file"),
    ],
    ids=["token-file", "profile-file", "ids-file", "api-auth-file"],
)  # fmt: skip
def test_a_file_that_never_ends_is_read_only_so_far(home: Path, args, env, says):
    ran = run_waiter([*NOWHERE, *args], home, env=env, preexec=_one_gib_of_memory)

    assert ran.usage_error().startswith(says)


def test_a_token_file_over_64_kib_is_not_a_token_file(run, tmp_path: Path):
    token_file = tmp_path / "token"
    token_file.write_text("t" * (64 * KIB + 1))  # header-safe: only its size is wrong
    token_file.chmod(0o600)

    message = run([*NOWHERE, "--token-file", str(token_file), "task-1"]).usage_error()

    assert message == (
        f"--token-file {token_file} is larger than 64 KiB: not a token file; fix the path"
    )


def test_a_profile_file_over_64_kib_is_not_a_credentials_file(run, tmp_path: Path):
    profile = tmp_path / "credentials"
    profile.write_text("[basic]\nak = AK0123\nsk = sk-0123\n" + "# padding\n" * (7 * KIB))
    profile.chmod(0o600)
    env = {"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(profile)}

    message = run([*NOWHERE, "task-1"], env=env).usage_error()

    assert message.startswith(
        f"credentials file {profile} (from environment HUAWEICLOUD_SDK_CREDENTIALS_FILE) is "
        "larger than 64 KiB: not a credentials file; fix it"
    )
    assert "sk-0123" not in message


def test_a_config_file_over_1_mib_is_not_a_config_file(run, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text("# a comment line\n" * (MIB // 17 + 1))

    message = run(["--config", str(config), "--show-config"]).usage_error()

    assert message == (
        f"config file {config} is larger than 1 MiB: not a config file; point --config elsewhere"
    )


def test_an_ids_file_that_is_not_utf8_names_the_line(run, tmp_path: Path):
    ids = tmp_path / "ids.txt"
    ids.write_bytes(b"task-1\ntask-2\n\xe9t\xe9\n")

    message = run(["--ids-file", str(ids)]).usage_error()

    assert message == f"--ids-file {ids} is not UTF-8 text (line 3); task IDs are ASCII, one a line"


def test_an_ids_file_of_json_nested_60_mib_deep_is_one_line(run, tmp_path: Path):
    ids = tmp_path / "binds.json"
    ids.write_bytes(b"[" * (60 * MIB))

    message = run(["--ids-file", str(ids)]).usage_error()

    assert message == (
        f"--ids-file {ids}: line 1 is not valid JSON (nested too deeply); give one JSON object "
        'with a "task_id" a line, a JSON array of them, or one task ID a line'
    )


def test_json_on_stdin_without_a_task_id_names_the_element(run):
    stdin = binary_stdin(b'[\n  {"task_id": "t1"},\n  {"server_id": "s2"}\n]\n')

    message = run(["-"], stdin=stdin).usage_error()

    assert message == (
        'stdin: line 3, element 2 of the array: the JSON object has no "task_id" string (its '
        "keys: 'server_id'); every object needs its task's ID there: fix or remove this one"
    )


# --- huge values are shown cut ---------------------------------------------------------------


def test_a_50_mb_task_id_is_shown_cut(run):
    stdin = binary_stdin(b"x" * (50 * MIB) + b"/\n")

    message = run(["-"], stdin=stdin).usage_error()

    assert message == (
        f"task ID {'x' * 40!r}… (52428801 characters) is not valid: use 1-128 characters of "
        "A-Z a-z 0-9 . _ -"
    )


def test_a_huge_task_id_argument_is_shown_cut(run):
    message = run(["task-1", "y" * 100_000 + "?"]).usage_error()

    assert message.startswith(f"task ID {'y' * 40!r}… (100001 characters) is not valid")


def test_a_huge_bad_flag_value_is_shown_cut(run):
    message = run(["--project-id", "p" * 100_000, "task-1"]).usage_error()

    assert message.startswith(
        f"--project-id must be 1-64 characters of A-Z a-z 0-9 . _ -, got {'p' * 40!r}… "
        "(100000 characters)"
    )
    assert len(message) < 400


def test_a_huge_bad_environment_value_is_shown_cut(run):
    message = run(["task-1"], env={"WAITER_TIMEOUT": "z" * 100_000}).usage_error()

    assert message == (
        "WAITER_TIMEOUT in the environment must be seconds or a duration such as 90, 1.5s, 10m "
        f"or 1h30m, got {'z' * 40!r}… (100000 characters)"
    )


def test_a_huge_status_field_is_shown_cut(run):
    args = ["--api", "http", "--url-template", "https://x.example.com/{task_id}"]

    message = run([*args, "--status-field", "s" * 100_000, "task-1"]).usage_error()

    assert message.startswith(
        "--status-field is not a JSON pointer: write it as /status or /status/phase, got "
        f"{'s' * 40!r}… (100000 characters)"
    )


def test_a_huge_plain_http_endpoint_is_shown_cut(run):
    endpoint = "http://" + "h" * 100_000 + ".example.com"

    message = run(["--endpoint", endpoint, "--project-id", PROJECT, "task-1"],
                  env={"WAITER_AUTH_TOKEN": TOKEN}).usage_error()  # fmt: skip

    assert message.startswith(
        f"--endpoint is {'http://' + 'h' * 33!r}… (100019 characters), plain http and not on "
        "this machine"
    )


def test_a_region_too_long_for_a_host_name_is_refused(run):
    message = run([*NOWHERE, "--region", "r" * 64, "task-1"],
                  env={"WAITER_AUTH_TOKEN": TOKEN}).usage_error()  # fmt: skip

    assert message.startswith("--region must be a region name such as cn-north-4, got 'rrrr")


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        (f'[kps]\nregion = "{"R" * 100_000}"\n',
         f"must be a region name such as cn-north-4, got {'R' * 40!r}… (100000 "
         "characters)"),
        (f"[poll]\n{'k' * 20_000} = 1\n",
         f"unknown config key {'poll.' + 'k' * 35!r}… (20005 characters) in "),
        (f'[poll]\ntimeout = ["{"s" * 100_000}"]\n',
         "must be seconds or a duration such as 90, 1.5s, 10m or 1h30m, got \"['sssssss"),
    ],
    ids=["value", "key", "list"],
)  # fmt: skip
def test_a_huge_bad_config_value_is_shown_cut(run, tmp_path: Path, toml: str, says: str):
    config = tmp_path / "config.toml"
    config.write_text(toml)

    message = run(["--config", str(config), "task-1"]).usage_error()

    assert says in message
    assert len(message) < 500


# --- no user name or password in a URL --------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "config", "label"),
    [
        (["--endpoint", f"https://user:{PASSWORD}@kms.example.com"], {}, "", "--endpoint"),
        ([], {"WAITER_ENDPOINT": f"https://{PASSWORD}@kms.example.com/"}, "",
         "WAITER_ENDPOINT in the environment"),
        (["--endpoint", f"user:{PASSWORD}@kms.example.com"], {}, "", "--endpoint"),
        (["--api", "http", "--url-template", f"https://u:{PASSWORD}@x.example.com/{{task_id}}",
          "--status-field", "/s"], {}, "", "--url-template"),
        (["--api", "http", "--url-template", f"https://x{{task_id}}:{PASSWORD}@x.example.com/",
          "--status-field", "/s"], {}, "", "--url-template"),
        (["--iam-endpoint", f"https://u:{PASSWORD}@iam.example.com"], {}, "", "--iam-endpoint"),
        ([], {"HUAWEICLOUD_SDK_IAM_ENDPOINT": f"https://u:{PASSWORD}@iam.example.com"}, "",
         "HUAWEICLOUD_SDK_IAM_ENDPOINT in the environment"),
        ([], {}, f'[auth]\nmetadata_url = "http://u:{PASSWORD}@169.254.169.254/x"\n',
         "auth.metadata_url in config file"),
    ],
    ids=["endpoint", "endpoint-env", "endpoint-no-scheme", "url-template",
         "url-template-after-brace", "iam-endpoint", "iam-endpoint-env", "metadata-url"],
)  # fmt: skip
def test_a_password_in_a_url_is_refused_unechoed(run, tmp_path: Path, args, env, config, label):
    if config:
        (tmp_path / "config.toml").write_text(config)
        args = [*args, "--config", str(tmp_path / "config.toml")]

    message = run([*args, "task-1"], env={"WAITER_AUTH_TOKEN": TOKEN, **env}).usage_error()

    assert message.startswith(label)
    assert " must not contain a user name or password (got ***@" in message
    assert "remove the part before the @" in message
    assert PASSWORD not in message


def test_only_an_at_sign_before_the_path_is_a_password(run):
    ran = run(["--endpoint", "https://kms.example.com/v@1", "--show-config"])
    refused = run(["--endpoint", f"https://u:{PASSWORD}@kms.example.com/v@1", "--show-config"])

    assert (ran.code, ran.stderr) == (0, "")
    assert 'endpoint = "https://kms.example.com/v@1"  # flag --endpoint' in ran.stdout
    assert refused.usage_error().startswith(
        "--endpoint must not contain a user name or password (got ***@kms.example.com)"
    )


# --- progress every second at most ------------------------------------------------------------


@pytest.mark.parametrize("value", ["1e-300", "0.5", "0"])
def test_progress_events_come_at_most_once_a_second(run, value: str):
    message = run(["--progress-every", value, "task-1"]).usage_error()

    assert message.startswith(f"--progress-every must be at least 1 second, got {value}")


def test_progress_every_second_is_the_shortest(run):
    ran = run(["--progress-every", "1", "--show-config"])
    refused = run(["--progress-every", "0.999", "--show-config"])

    assert ran.code == 0
    assert 'progress_every = "1s"  # flag --progress-every' in ran.stdout
    assert refused.usage_error().startswith("--progress-every must be at least 1 second")


# --- TOML that tomllib cannot take -------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ("a = " + "[" * 100_000, "is not valid TOML (nested too deeply)"),
        ("a = " + "{ b = " * 50_000, "is not valid TOML (nested too deeply)"),
        (
            "[poll]\ntimeout = 1" + "0" * 5000 + "\n",
            "is not valid TOML (a number too long to read)",
        ),
    ],
    ids=["nested-arrays", "nested-tables", "5000-digits"],
)
def test_toml_that_cannot_be_read_is_not_valid_toml(run, tmp_path: Path, toml: str, says: str):
    config = tmp_path / "config.toml"
    config.write_text(toml)

    message = run(["--config", str(config), "task-1"]).usage_error()

    assert message == f"config file {config} {says}; fix it or point --config elsewhere"


def test_a_number_too_large_for_a_float_is_not_a_number_of_seconds(run, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text("[poll]\ntimeout = 1" + "0" * 400 + "\n")

    message = run(["--config", str(config), "task-1"]).usage_error()

    assert message.startswith(
        f"poll.timeout in config file {config} must be seconds or a duration such as 90, 1.5s, "
        "10m or 1h30m, got '1000"
    )
    assert "… (401 characters)" in message


# --- paths that cannot name a file -------------------------------------------------------------


def test_a_path_with_a_nul_is_refused(run, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text('[auth]\ntoken_file = "/tmp/token\\u0000.txt"\n')

    message = run(["--config", str(config), *NOWHERE, "task-1"]).usage_error()

    assert message == (
        f"auth.token_file in config file {config} must be a path without NUL characters, got "
        "'/tmp/token\\x00.txt'"
    )


def test_a_home_folder_of_no_known_user_is_refused(run):
    message = run(["--token-file", "~no-such-user-7f3/token", *NOWHERE, "task-1"]).usage_error()

    assert message == (
        "--token-file must be a path whose ~ names a known home folder, "
        "got '~no-such-user-7f3/token'"
    )


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("~no-such-user-7f3/config.toml", "names the home folder of an unknown user"),
        ("c" * 5000, "cannot be looked at (File name too long)"),
    ],
)
def test_a_config_path_that_cannot_be_looked_at_is_refused(run, path: str, says: str):
    message = run(["--config", path, "task-1"]).usage_error()

    assert message.startswith("config file ")
    assert message.endswith(f"(given by --config) {says}; fix the path")
    assert len(message) < 300


def test_show_config_escapes_a_path_that_is_not_utf8(home: Path, tmp_path: Path):
    # A strict UTF-8 stdout cannot print the lone surrogate Python makes of the byte \xff.
    config = os.fsencode(tmp_path) + b"/c\xff.toml"
    with open(config, "w") as handle:
        handle.write("[poll]\ntimeout = 5\n")

    ran = run_waiter(["--config", os.fsdecode(config), "--show-config"], home,
                     env={"PYTHONIOENCODING": "utf-8"})  # fmt: skip

    assert (ran.code, ran.stderr) == (0, "")
    assert f"# config file: '{tmp_path}/c\\udcff.toml'" in ran.stdout
    assert """timeout = "5s"  # config file '""" in ran.stdout
