"""waiter.testing: the fake KPS for users' tests, instant waits, scenarios, the pytest plugin."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from virtual_time import run_virtual

import waiter
import waiter.testing
from waiter import Outcome, Settings, wait_for
from waiter._engine._clock import LoopClock, default_clock
from waiter.testing import Reply, fake_kps, fake_kps_in_thread, is_testing, set_testing
from waiter.testing._scenario import ScenarioError, load_scenario

pytest_plugins = ["pytester"]

READY, RUNNING, DONE, FAILED = "READY_RESET", "RUNNING_RESET", "SUCCESS_RESET", "FAILED_RESET"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "waiter" / "testing" / "scenario.example.toml"  # ships in the wheel
PROJECT = "0123456789abcdef0123456789abcdef"
FAST = {"min_interval": 0.1, "max_interval": 0.2, "rate": 1000.0}


@pytest.fixture
def instant() -> Iterator[None]:
    """Instant waits for one test; the process-wide default comes back whatever happens."""
    try:
        set_testing(True)
        yield
    finally:
        set_testing(False)
    assert not is_testing()


def test_all_is_exactly_the_public_names_and_sorted():
    assert waiter.testing.__all__ == sorted(waiter.testing.__all__)
    assert set(waiter.testing.__all__) == {
        "FakeKpsServer",
        "Reply",
        "ScenarioError",
        "SeenRequest",
        "Step",
        "Timeline",
        "Timelines",
        "fake_kps",
        "fake_kps_in_thread",
        "is_testing",
        "main",
        "set_testing",
        "testing",
    }


def test_every_public_name_loads_from_the_lazy_face_and_an_unknown_one_is_refused():
    for name in waiter.testing.__all__:
        assert getattr(waiter.testing, name) is not None, name
    assert dir(waiter.testing) == waiter.testing.__all__
    with pytest.raises(AttributeError, match="no_such_helper"):
        waiter.testing.no_such_helper  # noqa: B018 - the attribute access is the test


# --- fake_kps: in-process, on the running loop ---------------------------------------------------


def test_fake_kps_serves_timelines_to_wait_for():
    tasks = {
        "t1": [(0, READY), (2, RUNNING), (5, DONE)],
        "t2": [(0, RUNNING), (3, FAILED)],
    }

    async def scenario():
        async with fake_kps(tasks, token="tok-1") as kps:
            results = await wait_for(["t1", "t2"], kps.settings(min_interval=1, max_interval=2))
            return kps, results

    kps, results = run_virtual(scenario())

    assert [r.outcome for r in results] == [Outcome.SUCCESS, Outcome.FAILURE]
    assert uuid.UUID(results[0].server_id or "")  # a server ID shaped like a real one
    assert kps.url.startswith("http://127.0.0.1:")
    assert (kps.project_id, kps.token) == (PROJECT, "tok-1")
    assert {r.headers["X-Auth-Token"] for r in kps.requests} == {"tok-1"}
    assert len(kps.requests_for("t1")) == results[0].polls


def test_tasks_added_while_serving_count_from_then_and_take_faults():
    async def scenario():
        async with fake_kps() as kps:
            await asyncio.sleep(100)  # virtual: the next timeline must not start at 0
            added_at = asyncio.get_running_loop().time()
            kps.add_task(
                "late",
                [(0, RUNNING), (10, DONE)],
                server_id="srv-9",
                replies={1: Reply(503, "SYS.0503")},
            )
            [result] = await wait_for(["late"], kps.settings(min_interval=1, max_interval=4))
            return kps, result, added_at

    kps, result, added_at = run_virtual(scenario())

    assert result.outcome is Outcome.SUCCESS
    assert result.server_id == "srv-9"
    # Timeline and requests on the server's one clock, from when the task was added (the
    # wait's own start comes later by however long setting it up took on a busy machine).
    seen = [request.at - added_at for request in kps.requests_for("late")]
    assert len(seen) == result.polls >= 3  # the scripted 503, at least one RUNNING, then DONE
    assert seen[-2] < 10 <= seen[-1] <= 10 + 4  # success seen at the first poll after 10 s


def test_a_reply_step_answers_every_request_in_its_time():
    async def scenario():
        tasks = {"t1": [(0, Reply(200, body=b"<html>login</html>"))]}
        async with fake_kps(tasks) as kps:
            return await wait_for(["t1"], kps.settings(**FAST))

    [result] = run_virtual(scenario())

    assert result.outcome is Outcome.ERROR
    assert "<html>login</html>" in (result.error or "")


def test_without_a_token_any_token_is_accepted_and_settings_carry_one():
    async def scenario():
        async with fake_kps({"t1": [(0, DONE)]}) as kps:
            settings = kps.settings(timeout=30.0, token="anything-at-all")
            return kps, settings, await wait_for(["t1"], settings)

    kps, settings, [result] = run_virtual(scenario())

    assert kps.token is None
    assert kps.settings().token  # the client refuses to run without one
    assert isinstance(settings, Settings)
    assert settings.timeout == 30.0
    assert result.outcome is Outcome.SUCCESS


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"host": "0.0.0.0"}, "not a loopback address"),
        ({"host": "example.com"}, "not a loopback address"),
        ({"port": 70000}, "port must be 0-65535"),
        ({"project_id": "a/b"}, "project_id must be 1-64 characters"),
        ({"token": "has space"}, "token must be a non-empty string"),
        ({"tasks": {"../x": [(0, DONE)]}}, "task ID must be 1-128 characters"),
        ({"tasks": {"t": [(5, DONE), (1, RUNNING)]}}, "before step 1"),
        ({"tasks": {"t": []}}, "timeline is empty"),
        ({"tasks": {"t": [(-1, DONE)]}}, "0 or more seconds"),
        ({"tasks": {"t": [(0, "")]}}, "non-empty string or a Reply"),
        ({"tasks": {"t": [DONE]}}, "must be a pair"),
    ],
)
def test_bad_arguments_raise_value_error_before_listening(kwargs, message):
    async def scenario():
        async with fake_kps(**kwargs):
            pass

    with pytest.raises(ValueError, match=message):
        asyncio.run(scenario())


def test_add_task_checks_its_replies():
    async def scenario():
        async with fake_kps() as kps:
            kps.add_task("t", [(0, DONE)], replies={0: Reply(503)})

    with pytest.raises(ValueError, match="request number from 1"):
        asyncio.run(scenario())


def test_an_ipv6_loopback_url_is_bracketed():
    async def scenario():
        async with fake_kps({"t1": [(0, DONE)]}, host="::1") as kps:
            return kps.url, await wait_for(["t1"], kps.settings())

    try:
        url, [result] = asyncio.run(scenario())
    except OSError:
        pytest.skip("no IPv6 loopback here")

    assert url.startswith("http://[::1]:")
    assert result.outcome is Outcome.SUCCESS


# --- fake_kps_in_thread ---------------------------------------------------------------------------


def test_the_threaded_server_serves_sync_callers_and_adds_tasks_across_threads():
    with fake_kps_in_thread({"t1": [(0, DONE)]}, token="tok-2") as kps:
        kps.add_task("t2", [(0, RUNNING), (0.3, DONE)])  # from this thread, not the server's
        results = asyncio.run(wait_for(["t1", "t2"], kps.settings(**FAST)))
        seen = kps.requests

    assert [r.outcome for r in results] == [Outcome.SUCCESS, Outcome.SUCCESS]
    assert {r.task_id for r in seen} == {"t1", "t2"}
    with pytest.raises(ConnectionRefusedError):  # stopped: nothing listens there any more
        asyncio.run(asyncio.open_connection("127.0.0.1", int(kps.url.rsplit(":", 1)[1])))


def test_the_threaded_server_reports_a_failure_to_listen():
    with fake_kps_in_thread() as first:
        port = int(first.url.rsplit(":", 1)[1])
        with pytest.raises(OSError, match="in use"), fake_kps_in_thread(port=port):
            pass


# --- the testing switch ---------------------------------------------------------------------------


def test_testing_makes_a_ten_minute_task_finish_at_once(instant):
    async def scenario():
        async with fake_kps({"slow": [(0, RUNNING), (600, DONE)]}) as kps:
            return await wait_for(["slow"], kps.settings())

    # Real waits would outlast the test's timeout (120 s, pyproject.toml): that it ends at all
    # shows the ten minutes were skipped, with no reading of the wall clock to flake under load.
    [result] = asyncio.run(scenario())

    assert is_testing()
    assert result.outcome is Outcome.SUCCESS
    # Virtual seconds, on the default schedule; the server's timeline started a moment of real
    # time before the wait did, which a busy machine makes a few tenths of a second.
    assert 600 - 5 <= result.elapsed_s <= 600 + 20


def test_testing_reaches_the_threaded_server_too_even_when_turned_on_late():
    # The server starts first, as it does with the pytest fixture and the switch in the test.
    # Five minutes of real waiting would outlast the test's timeout (120 s, pyproject.toml).
    with fake_kps_in_thread({"slow": [(0, RUNNING), (300, DONE)]}) as kps, waiter.testing.testing():
        [result] = asyncio.run(wait_for(["slow"], kps.settings()))

    assert result.outcome is Outcome.SUCCESS
    assert 300 - 5 <= result.elapsed_s <= 300 + 20


def test_deadlines_still_hold_in_virtual_time(instant):
    async def scenario():
        async with fake_kps({"stuck": [(0, RUNNING)]}) as kps:
            return await wait_for(["stuck"], kps.settings(timeout=120))

    [result] = asyncio.run(scenario())

    assert result.outcome is Outcome.TIMEOUT
    assert 120 <= result.elapsed_s < 125


def test_the_testing_context_manager_restores_the_previous_state():
    assert not is_testing()
    with waiter.testing.testing():
        assert is_testing()
        with waiter.testing.testing(False):
            assert not is_testing()
            assert isinstance(default_clock(), LoopClock)
        assert is_testing()
    assert not is_testing()
    assert isinstance(default_clock(), LoopClock)


# --- scenario files -------------------------------------------------------------------------------


def test_the_example_scenario_loads():
    scenario = load_scenario(EXAMPLE)

    assert scenario.project_id == PROJECT
    assert scenario.token == "fake-token"
    first, throttled, flaky = scenario.tasks
    assert first.server_id == "c9aa197b-a6b6-4c33-b3a6-fa0b4ec50006"
    assert first.timeline == ((0, READY), (2, RUNNING), (6, DONE))
    assert throttled.replies == {1: Reply(429, "APIGW.0308", headers={"Retry-After": "2"})}
    assert flaky.timeline[1] == (1, Reply(503, "SYS.0503", "service unavailable"))


def test_a_minimal_scenario_takes_the_defaults(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        '[[task]]\nid = "t"\ntimeline = [[0, { hang = true }], [1.5, { status = 502, '
        'body = "<h1>bad gateway</h1>", reset = true }]]\n',
        encoding="utf-8",
    )

    scenario = load_scenario(path)

    assert (scenario.project_id, scenario.token) == (PROJECT, None)
    [task] = scenario.tasks
    assert task.timeline[0] == (0, Reply(200, hang=True))
    assert task.timeline[1] == (1.5, Reply(502, body=b"<h1>bad gateway</h1>", reset=True))


_TASK = '[[task]]\nid = "t"\n'
_BAD_SCENARIOS = {
    "invalid TOML": ("[[task]\nid = 1", "is not valid TOML"),
    "unknown top key": ('project = "p"', "unknown key 'project'"),
    "bad project": ('project_id = "a b"', "project_id must be 1-64 characters"),
    "bad token": ('token = ""', "token must be a non-empty string"),
    "task not array": ('task = "t"', "task must be an array of tables"),
    "missing id": ('[[task]]\ntimeline = [[0, "X"]]', "task #1: id must be 1-128"),
    "bad id": ('[[task]]\nid = "a/b"\ntimeline = [[0, "X"]]', "task #1: id must be 1-128"),
    "duplicate id": (
        _TASK + 'timeline = [[0, "X"]]\n' + _TASK + 'timeline = [[0, "X"]]',
        "task 't' is defined twice",
    ),
    "unknown task key": (_TASK + 'timeline = [[0, "X"]]\nsteps = 1', "task 't': unknown key"),
    "missing timeline": (_TASK, "task 't': timeline is missing"),
    "timeline not array": (_TASK + 'timeline = "X"', "task 't': timeline must be an array"),
    "empty timeline": (_TASK + "timeline = []", "task 't': timeline is empty"),
    "step not a pair": (_TASK + 'timeline = [[0, "X", 1]]', "timeline step 1 must be a pair"),
    "time not number": (_TASK + 'timeline = [["0", "X"]]', "step 1: the time must be a number"),
    "negative time": (_TASK + 'timeline = [[-2, "X"]]', "step 1: the time must be 0 or more"),
    "out of order": (_TASK + 'timeline = [[0, "X"], [5, "Y"], [4, "Z"]]', "step 3 comes at 4 s"),
    "empty status": (_TASK + 'timeline = [[0, ""]]', "step 1: the status must be"),
    "status number": (_TASK + "timeline = [[0, 3]]", "step 1: the status must be"),
    "fault no status": (_TASK + 'timeline = [[0, { code = "X" }]]', "status is missing"),
    "fault bad status": (_TASK + "timeline = [[0, { status = 700 }]]", "status must be an HTTP"),
    "fault bad key": (
        _TASK + "timeline = [[0, { status = 503, retry = 1 }]]",
        "step 1: unknown key 'retry'",
    ),
    "hang not bool": (_TASK + 'timeline = [[0, { hang = "yes" }]]', "hang must be true or false"),
    "hang and reset": (
        _TASK + "timeline = [[0, { hang = true, reset = true }]]",
        "choose hang or reset",
    ),
    "header not string": (
        _TASK + 'timeline = [[0, "X"]]\nfaults = { 1 = { status = 429, headers = { A = 2 } } }',
        "faults.1: header A must be a string",
    ),
    "faults key": (
        _TASK + 'timeline = [[0, "X"]]\nfaults = { first = { status = 503 } }',
        "faults key 'first' must be a request number",
    ),
    "faults zero": (
        _TASK + 'timeline = [[0, "X"]]\nfaults = { 0 = { status = 503 } }',
        "faults key '0' must be a request number",
    ),
    "fault not table": (
        _TASK + 'timeline = [[0, "X"]]\nfaults = { 1 = 503 }',
        "faults.1 must be a table",
    ),
    "faults not table": (_TASK + 'timeline = [[0, "X"]]\nfaults = [1]', "faults must be a table"),
}


@pytest.mark.parametrize("name", list(_BAD_SCENARIOS))
def test_a_bad_scenario_is_one_line_naming_the_place(tmp_path, name):
    text, message = _BAD_SCENARIOS[name]
    path = tmp_path / "bad.toml"
    path.write_text(text + "\n", encoding="utf-8")

    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)

    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_a_missing_scenario_file_is_one_line(tmp_path):
    with pytest.raises(ScenarioError, match=r"cannot read scenario file .*: No such file"):
        load_scenario(tmp_path / "nope.toml")


# --- python -m waiter.testing ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scenario", "nope.toml"], "cannot read scenario file nope.toml"),
        (["--scenario", str(EXAMPLE), "--host", "0.0.0.0"], "not a loopback"),
        (["--scenario", str(EXAMPLE), "--port", "http"], "must be a whole number"),
        ([], "the following arguments are required: --scenario"),
    ],
)
def test_the_server_command_refuses_bad_input_in_one_line(capsys, monkeypatch, argv, message):
    monkeypatch.chdir(ROOT)
    try:
        code = waiter.testing.main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code

    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1


def _start_server(scenario: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "waiter.testing",
            "--port",
            "0",
            "--scenario",
            str(scenario),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    ready, _, _ = select.select([server.stdout], [], [], 60)  # a hang guard; it takes ~0.5 s
    line = server.stdout.readline() if ready else ""
    if not line:
        server.kill()
        pytest.fail(f"the server did not start: {server.communicate()[1]}")
    return server, line.strip()


def test_the_standalone_server_serves_a_scenario_to_the_command_line(tmp_path):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(
        f'project_id = "{PROJECT}"\ntoken = "tok-cli"\n'
        '[[task]]\nid = "t1"\nserver_id = "srv-1"\n'
        'timeline = [[0, "READY_RESET"], [0.3, "SUCCESS_RESET"]]\n',
        encoding="utf-8",
    )
    server, line = _start_server(scenario)
    try:
        assert line.startswith("fake KPS listening on http://127.0.0.1:")
        assert line.endswith(f"(project {PROJECT})")
        url = line.split()[4]
        poll = ["--min-interval", "0.1", "--max-interval", "0.2", "--output", "json"]
        client = subprocess.run(
            [
                sys.executable,
                "-m",
                "waiter",
                "--endpoint",
                url,
                "--project-id",
                PROJECT,
                *poll,
                "t1",
            ],
            env={**os.environ, "WAITER_AUTH_TOKEN": "tok-cli"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert client.returncode == 0, client.stderr
        assert '"server_id": "srv-1"' in client.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0, err


def test_the_standalone_server_stops_cleanly_on_sigint():
    server, _ = _start_server(EXAMPLE)
    server.send_signal(signal.SIGINT)
    _, err = server.communicate(timeout=60)

    assert server.returncode == 0, err
    assert err == ""


# --- the pytest plugin ----------------------------------------------------------------------------

# Read when pytest starts, after the entry-point plugins are loaded and before any test module
# is imported: a plugin that loaded aiohttp would slow down every test suite on the machine.
_USER_CONFTEST = """
import sys

import pytest

AIOHTTP_AT_START = "aiohttp" in sys.modules


@pytest.fixture
def aiohttp_at_start():
    return AIOHTTP_AT_START
"""

_USER_TESTS = """
import asyncio

import waiter
from waiter.testing import testing  # collected as a test unless pytest is told otherwise


def test_the_plugin_loaded_nothing_heavy(aiohttp_at_start):
    assert aiohttp_at_start is False


def test_wait_on_a_scripted_task(fake_kps):
    fake_kps.add_task("t1", [(0, "RUNNING_RESET"), (0.3, "SUCCESS_RESET")], server_id="s-1")
    settings = fake_kps.settings(min_interval=0.1, max_interval=0.2)
    [result] = asyncio.run(waiter.wait_for(["t1"], settings))
    assert result.outcome is waiter.Outcome.SUCCESS
    assert result.server_id == "s-1"
    assert fake_kps.token and fake_kps.requests[0].headers["X-Auth-Token"] == fake_kps.token


def test_instant_waits(fake_kps, waiter_testing):
    fake_kps.add_task("slow", [(0, "RUNNING_RESET"), (900, "SUCCESS_RESET")])
    [result] = asyncio.run(waiter.wait_for(["slow"], fake_kps.settings()))
    assert result.outcome is waiter.Outcome.SUCCESS
    # Virtual seconds; the server's timeline counts real ones too, so it may end a little early.
    assert result.elapsed_s >= 900 - 5


def test_instant_waits_are_over():
    from waiter.testing import is_testing

    assert not is_testing()
"""


def test_the_pytest_plugin_serves_users_tests(pytester):
    pytester.makeconftest(_USER_CONFTEST)
    pytester.makepyfile(test_user=_USER_TESTS)

    # Fifteen minutes of real waiting in test_instant_waits would outlast this test's timeout.
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-W", "error"
    )

    result.assert_outcomes(passed=4)


def test_importing_the_plugin_does_not_import_aiohttp():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import waiter.testing._plugin, sys; print('aiohttp' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert out == "False"
