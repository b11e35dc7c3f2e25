"""The public surface: exactly the documented names, typed, and free of side effects."""

from __future__ import annotations

import subprocess
import sys

import waiter

PUBLIC = {
    "ConfigError",
    "Outcome",
    "Settings",
    "TaskResult",
    "Waiter",
    "WaiterError",
    "__version__",
    "log_to_stdlib",
    "wait_for",
}


def test_all_is_exactly_the_public_names_and_sorted():
    assert set(waiter.__all__) == PUBLIC
    assert waiter.__all__ == sorted(waiter.__all__)
    for name in waiter.__all__:
        assert getattr(waiter, name) is not None


def test_outcomes_are_the_contract_values():
    assert [o.value for o in waiter.Outcome] == [
        "success",
        "failure",
        "timeout",
        "error",
        "cancelled",
    ]


def test_task_result_carries_the_json_line_fields():
    result = waiter.TaskResult("t", waiter.Outcome.SUCCESS, "SUCCESS_RESET", "s", 3, 1.5, None)
    assert result.to_dict() == {
        "task_id": "t",
        "outcome": "success",
        "status": "SUCCESS_RESET",
        "server_id": "s",
        "polls": 3,
        "elapsed_s": 1.5,
        "error": None,
    }


def _run_python(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_importing_waiter_configures_nothing_and_loads_no_http_stack():
    out = _run_python(
        "import sys, logging, structlog, waiter;"
        "print(structlog.is_configured(), logging.getLogger().handlers,"
        " 'aiohttp' in sys.modules)"
    )
    assert out == "False [] False"


def test_help_does_not_import_aiohttp():
    out = _run_python(
        "import sys, contextlib, io\n"
        "from waiter._cli._main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): code = main(['--help'])\n"
        "print(code, 'aiohttp' in sys.modules)"
    )
    assert out == "0 False"


def test_secrets_stay_out_of_settings_repr():
    settings = waiter.Settings(token="tok-secret", secret_key="sk-secret", access_key="ak-id")
    assert "tok-secret" not in repr(settings)
    assert "sk-secret" not in repr(settings)


def test_a_usage_error_loads_no_http_stack_and_starts_no_event_loop():
    out = _run_python(
        "import sys, io, asyncio\n"
        "from waiter._cli._main import main\n"
        "started = []\n"
        "asyncio.Runner.run = lambda self, coro: started.append(coro.close())\n"
        "code = main(['--endpoint', 'https://kms.example.com', 't1'], stderr=io.StringIO(),"
        " env={'WAITER_AUTH_TOKEN': 'x'})\n"
        "print(code, 'aiohttp' in sys.modules, started)"
    )
    assert out == "2 False []"  # no project ID: bad usage, found before anything heavier


def test_the_timeline_types_are_public_and_say_what_a_fake_task_takes():
    from collections.abc import Mapping, Sequence
    from typing import get_args, get_origin

    import waiter.testing
    from waiter.testing import Reply, Step, Timeline, Timelines

    assert {"Step", "Timeline", "Timelines"} <= set(waiter.testing.__all__)
    assert get_args(Step) == (float, str | Reply)
    assert (get_origin(Timeline), get_args(Timeline)) == (Sequence, (Step,))
    assert (get_origin(Timelines), get_args(Timelines)) == (Mapping, (str, Timeline))
