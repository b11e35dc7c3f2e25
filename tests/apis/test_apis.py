"""Other task APIs: the same engine, schedule, output and exit codes behind one small interface."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from helpers import PROJECT, TOKEN, by_id, config_error, fake_kps, serving, settings_for
from virtual_time import run_virtual

from waiter import ConfigError, Outcome, Settings, Waiter, wait_for
from waiter._config._settings import load_settings


def test_ecs_jobs_use_their_own_statuses_and_failure_reason():
    kps = fake_kps()
    kps.add_task("job-ok", [(0, "INIT"), (2, "RUNNING"), (9, "SUCCESS")], server_id="srv-1")
    kps.add_task("job-bad", [(0, "RUNNING"), (4, "FAIL")])

    async def scenario():
        async with kps.serve() as url:
            return await wait_for(["job-ok", "job-bad"], settings_for(url, api="ecs-job"))

    results = by_id(run_virtual(scenario()))

    assert results["job-ok"].outcome is Outcome.SUCCESS
    assert results["job-ok"].server_id == "srv-1"
    assert results["job-bad"].outcome is Outcome.FAILURE
    assert results["job-bad"].error == "Ecs.0000: simulated failure"
    assert {r.task_id for r in kps.requests} == {"job-ok", "job-bad"}


@asynccontextmanager
async def _json_api(phases: dict[str, list[str]]) -> AsyncIterator[str]:
    """A made-up JSON task API: GET /api/{project}/ops/{id} -> {"op": {"state": {"phase": ..}}}."""
    seen: dict[str, int] = {}

    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("X-Auth-Token") != TOKEN:
            return web.json_response({"message": "no"}, status=401)
        op = request.match_info["op"]
        seen[op] = seen.get(op, 0) + 1
        sequence = phases[op]
        phase = sequence[min(seen[op], len(sequence)) - 1]
        return web.json_response({"op": {"state": {"phase": phase}}})

    app = web.Application()
    app.router.add_get("/api/{project}/ops/{op}", handler)
    async with serving(app) as url:
        yield url


def _http_settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "api": "http",
        "url_template": url + "/api/{project_id}/ops/{task_id}",
        "status_field": "/op/state/phase",
        "success": ("Done",),
        "failure": ("Broken",),
        "pending": ("Queued", "Working"),
        "project_id": PROJECT,
        "token": TOKEN,
        "api_huawei_auth": True,  # this made-up API takes the IAM token
        "min_interval": 1.0,
        "max_interval": 4.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def test_any_json_api_with_a_url_template_and_a_status_pointer():
    phases = {"a": ["Queued", "Working", "Done"], "b": ["Working", "Broken"]}

    async def scenario():
        async with _json_api(phases) as url:
            return await wait_for(["a", "b"], _http_settings(url))

    results = by_id(run_virtual(scenario()))

    assert results["a"].outcome is Outcome.SUCCESS
    assert results["a"].status == "Done"
    assert results["a"].polls == 3
    assert results["b"].outcome is Outcome.FAILURE


def test_a_missing_status_field_is_an_unreadable_answer():
    async def scenario():
        async with _json_api({"a": ["Done"]}) as url:
            return await wait_for(["a"], _http_settings(url, status_field="/op/nope"))

    [result] = run_virtual(scenario())

    assert result.outcome is Outcome.ERROR
    assert "/op/nope" in (result.error or "")


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"url_template": None}, "a URL template with {task_id} and a JSON pointer to the "
         "status in the answer (such as /status): set url_template"),
        ({"status_field": None}, ": set status_field"),
        ({"url_template": None, "status_field": None}, ": set url_template and status_field"),
        ({"status_field": "op.state"}, "status_field is not a JSON pointer"),
        ({"success": None}, "the http task API has no statuses of its own: set success"),
        ({"success": None, "pending": None}, "has no statuses of its own: set success, pending"),
    ],
)  # fmt: skip
def test_the_http_api_says_what_it_needs(overrides, says):
    # Settings made in code: the fields that are missing, never a flag.
    with pytest.raises(ConfigError) as excinfo:
        Waiter(_http_settings("http://127.0.0.1:1", **overrides))

    message = config_error(excinfo)
    assert says in message
    assert "--" not in message


def test_the_http_api_says_what_it_needs_in_flags_on_the_command_line(env: dict[str, str]):
    flags = {"api": "http", "url_template": "http://127.0.0.1:1/op/{task_id}"}

    with pytest.raises(ConfigError) as excinfo:
        Waiter(load_settings(flags=flags, env=env).settings)

    assert config_error(excinfo).endswith(
        ": set --status-field (or WAITER_STATUS_FIELD, api.status_field)"
    )


def test_a_url_template_without_task_id_is_refused():
    with pytest.raises(ConfigError, match="task_id"):
        Settings(api="http", url_template="https://example.com/jobs")


def test_the_http_api_needs_no_project_id_unless_the_template_has_one():
    settings = Settings(
        api="http",
        url_template="http://127.0.0.1:1/ops/{task_id}",
        status_field="/phase",
        success=("Done",),
        failure=("Broken",),
        pending=("Working",),
        token=TOKEN,
    )
    Waiter(settings)  # no ConfigError
