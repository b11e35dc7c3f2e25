"""The command line with access keys, against the simulated KPS on its own thread: a signed wait
shows no secret even at debug level, refused keys exit 4 naming their file, and half a pair
exits 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import (
    AK,
    DONE,
    PROJECT,
    RUNNING,
    SDK_PAIR,
    SK,
    ST,
    WRONG_SK,
    basic_profile,
    kps_on_a_thread,
    run_main,
    write,
)

from waiter.testing._fake import Reply
from waiter.testing._server import FakeKpsServer


@pytest.fixture
def signing_server() -> Iterator[FakeKpsServer]:
    with kps_on_a_thread(access_keys={AK: SK}, security_tokens={AK: ST}) as server:
        yield server


def cli_args(server: FakeKpsServer, *args: str) -> list[str]:
    return [
        "--endpoint", server.url, "--project-id", PROJECT, "--min-interval", "0.05",
        "--max-interval", "0.2", "--rate", "1000", "--log-format", "json", *args,
    ]  # fmt: skip


def test_a_whole_signed_wait_at_debug_level_shows_neither_secret_key_nor_security_token(
    signing_server: FakeKpsServer,
):
    signing_server.add_task("t1", [(0, RUNNING), (0.1, DONE)])
    signing_server.add_task("t2", [(0, DONE)], replies={1: Reply(503, "SYS.0503")})
    env = {**SDK_PAIR, "HUAWEICLOUD_SDK_SECURITY_TOKEN": ST}

    code, stdout, stderr = run_main(cli_args(signing_server, "-v", "t1", "t2"), env)

    assert code == 0
    events = [json.loads(line) for line in stderr.splitlines()]
    assert any(event["level"] == "debug" for event in events)
    assert signing_server.requests[0].headers["X-Security-Token"] == ST  # sent...
    for secret in (SK, ST):  # ...and never shown
        assert secret not in stdout
        assert secret not in stderr


def test_refused_keys_from_the_profile_file_exit_4_naming_the_file(
    signing_server: FakeKpsServer, profile: Path
):
    write(profile, basic_profile(sk=WRONG_SK, security_token=ST))
    signing_server.add_task("t1", [(0, RUNNING)])
    signing_server.add_task("t2", [(0, RUNNING)])

    args = cli_args(signing_server, "-v", "--max-in-flight", "1", "t1", "t2")
    code, stdout, stderr = run_main(args, {})

    assert code == 4
    results = [json.loads(line) for line in stdout.splitlines()]
    assert len(results) == 2
    assert f"the credentials from profile file {profile} were refused" in results[0]["error"]
    assert len(signing_server.requests) == 1
    assert WRONG_SK not in stdout + stderr


def test_half_a_pair_on_the_command_line_exits_2_naming_both_variables(
    signing_server: FakeKpsServer,
):
    code, stdout, stderr = run_main(cli_args(signing_server, "t1"), {"HW_ACCESS_KEY": AK})

    assert (code, stdout) == (2, "")
    [line] = stderr.splitlines()
    assert "HW_ACCESS_KEY is set but HW_SECRET_KEY is not" in line
    assert signing_server.requests == []
