"""``--api http``: the URL template's host gets the API's own auth header, not Huawei's credentials.

A real aiohttp server on 127.0.0.1 records the headers of every request; the wait goes through
``waiter.wait_for`` and through the command line (``waiter._cli._main.main`` with injected streams).
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from aiohttp import web
from helpers import PROJECT, TOKEN, served_on_a_thread

from waiter import ConfigError, Outcome, Settings, wait_for
from waiter._cli._main import main

AK, SK = "AKTESTKEY0123456789", "sk-secret-9b2c4e"
API_VALUE = "Bearer api-secret-61d0f3"
# Headers that carry Huawei credentials: a token, or a signature and what it signs.
HUAWEI_HEADERS = {"x-auth-token", "authorization", "x-sdk-date", "x-security-token"}


class HeaderRecorder:
    """A JSON task API on its own thread: every task is done; each request's headers are kept.

    ``GET /ops/{task_id}`` and ``GET /p/{project_id}/ops/{task_id}`` answer
    ``{"status": "done"}``; ``status`` (e.g. 401) makes every answer that error instead.
    """

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[dict[str, str]] = []  # header names in lower case
        self.paths: list[str] = []
        self.url = ""
        self._served = ExitStack()

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append({name.lower(): value for name, value in request.headers.items()})
        self.paths.append(request.path)
        if self.status != 200:
            return web.json_response({"message": "refused"}, status=self.status)
        return web.json_response({"status": "done"})

    def start(self) -> HeaderRecorder:
        app = web.Application()
        app.router.add_get("/ops/{task_id}", self._handle)
        app.router.add_get("/p/{project_id}/ops/{task_id}", self._handle)
        self.url = self._served.enter_context(served_on_a_thread(app))
        return self

    def stop(self) -> None:
        self._served.close()

    def only_request(self) -> dict[str, str]:
        assert len(self.requests) == 1, self.requests
        return self.requests[0]


@pytest.fixture
def api() -> Iterator[HeaderRecorder]:
    server = HeaderRecorder().start()
    try:
        yield server
    finally:
        server.stop()


def http_settings(server: HeaderRecorder, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "api": "http",
        "url_template": server.url + "/ops/{task_id}",
        "status_field": "/status",
        "success": ("done",),
        "failure": ("failed",),
        "pending": ("running",),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def wait(settings: Settings, task_ids: list[str] | None = None) -> list[Outcome]:
    results = asyncio.run(wait_for(task_ids or ["op-1"], settings))
    return [result.outcome for result in results]


def huawei_headers(headers: dict[str, str]) -> set[str]:
    return HUAWEI_HEADERS & set(headers)


# --- the library: waiter.wait_for ------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [{"token": TOKEN}, {"access_key": AK, "secret_key": SK}],
    ids=["token", "access-key"],
)
def test_the_template_host_gets_no_huawei_credentials_by_default(
    api: HeaderRecorder, credentials: dict[str, str]
):
    assert wait(http_settings(api, **credentials)) == [Outcome.SUCCESS]

    headers = api.only_request()
    assert huawei_headers(headers) == set()
    assert TOKEN not in headers.values()


def test_the_apis_own_header_is_sent_exactly_as_given(api: HeaderRecorder):
    assert wait(http_settings(api, token=TOKEN, api_auth=API_VALUE)) == [Outcome.SUCCESS]

    headers = api.only_request()
    assert headers["authorization"] == API_VALUE
    assert "x-auth-token" not in headers


def test_the_header_can_be_another_one(api: HeaderRecorder):
    settings = http_settings(api, api_auth="key-abc123", api_auth_header="X-Api-Key")

    assert wait(settings) == [Outcome.SUCCESS]

    headers = api.only_request()
    assert headers["x-api-key"] == "key-abc123"
    assert huawei_headers(headers) == set()


def test_asked_for_the_huawei_token_goes_to_the_template_host_too(api: HeaderRecorder):
    settings = http_settings(
        api, token=TOKEN, api_huawei_auth=True, api_auth_header="X-Api-Key", api_auth="key-abc123"
    )

    assert wait(settings) == [Outcome.SUCCESS]

    headers = api.only_request()
    assert headers["x-auth-token"] == TOKEN
    assert headers["x-api-key"] == "key-abc123"


def test_asked_for_requests_are_signed_for_the_template_host(api: HeaderRecorder):
    settings = http_settings(api, access_key=AK, secret_key=SK, api_huawei_auth=True)

    assert wait(settings) == [Outcome.SUCCESS]

    headers = api.only_request()
    assert headers["authorization"].startswith(f"SDK-HMAC-SHA256 Access={AK}")
    assert "x-sdk-date" in headers


def test_without_any_credentials_the_http_api_runs(api: HeaderRecorder):
    assert wait(http_settings(api), ["op-1", "op-2"]) == [Outcome.SUCCESS, Outcome.SUCCESS]

    assert all(huawei_headers(headers) == set() for headers in api.requests)
    assert len(api.requests) == 2


def test_a_401_when_nothing_was_sent_says_so_instead_of_blaming_a_token():
    server = HeaderRecorder(status=401).start()
    try:
        [result] = asyncio.run(wait_for(["op-1"], http_settings(server)))
    finally:
        server.stop()

    assert result.outcome is Outcome.ERROR
    assert "none were sent" in (result.error or "")
    # A result both kinds of user read: the fields, and the command line's names for them.
    assert (
        "give its header's value with api_auth (WAITER_API_AUTH) or api_auth_file "
        "(--api-auth-file, api.auth_file)"
    ) in (result.error or "")
    assert "wrong or expired" not in (result.error or "")  # there was no token to be wrong


def test_the_huawei_credentials_are_not_even_looked_up(api: HeaderRecorder, tmp_path: Path):
    # A token file that cannot be read would stop a kps run; --api http never opens it.
    settings = http_settings(api, token_file=tmp_path / "missing-token")

    assert wait(settings) == [Outcome.SUCCESS]
    assert huawei_headers(api.only_request()) == set()


def test_the_huawei_header_and_the_apis_header_must_differ(api: HeaderRecorder):
    settings = http_settings(
        api, access_key=AK, secret_key=SK, api_huawei_auth=True, api_auth=API_VALUE
    )

    with pytest.raises(ConfigError) as excinfo:
        wait(settings)
    assert api.requests == []
    # Made in code: the fields.
    assert str(excinfo.value) == (
        "api_auth_header is Authorization, a header the Huawei credentials send too "
        "(api_huawei_auth is on): give the API's own credentials in another header (e.g. "
        "X-Api-Key) with api_auth_header, or drop one of the two"
    )


def test_the_apis_header_value_is_kept_out_of_repr():
    settings = Settings(api_auth=API_VALUE)

    assert "api-secret" not in repr(settings)


@pytest.mark.parametrize("value", ["Bearer abc\r\nX-Evil: 1", "Bearer \x00abc", "Bearer é"])
def test_a_header_value_that_cannot_be_one_is_refused_unechoed(value: str):
    with pytest.raises(ConfigError) as excinfo:
        Settings(api_auth=value)

    message = str(excinfo.value)
    assert message.startswith("api_auth contains control or non-ASCII characters")
    assert "abc" not in message


# --- the command line ------------------------------------------------------------------------


def run_main(argv: list[str], env: dict[str, str], *, home: Path) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(
        argv, stdin=io.StringIO(""), stdout=stdout, stderr=stderr, env={"HOME": str(home), **env}
    )
    return code, stdout.getvalue(), stderr.getvalue()


def http_args(server: HeaderRecorder, *args: str, template: str = "/ops/{task_id}") -> list[str]:
    return [
        "--api", "http", "--url-template", server.url + template, "--status-field", "/status",
        "--success", "done", "--failure", "failed", "--pending", "running",
        "--log-format", "json", *args,
    ]  # fmt: skip


def outcomes(stdout: str) -> list[str]:
    return [json.loads(line)["outcome"] for line in stdout.splitlines()]


HUAWEI_ENV = {
    "WAITER_AUTH_TOKEN": TOKEN,
    "HUAWEICLOUD_SDK_AK": AK,
    "HUAWEICLOUD_SDK_SK": SK,
    "WAITER_PROJECT_ID": PROJECT,
}


def test_cli_sends_no_huawei_credentials_to_the_template_host(api: HeaderRecorder, tmp_path: Path):
    code, stdout, stderr = run_main(http_args(api, "op-1"), HUAWEI_ENV, home=tmp_path)

    assert (code, outcomes(stdout)) == (0, ["success"]), stderr
    headers = api.only_request()
    assert huawei_headers(headers) == set()
    assert TOKEN not in json.dumps(headers)


def test_cli_sends_waiter_api_auth_as_the_authorization_header(api: HeaderRecorder, tmp_path: Path):
    env = {**HUAWEI_ENV, "WAITER_API_AUTH": API_VALUE}

    code, stdout, stderr = run_main(http_args(api, "op-1"), env, home=tmp_path)

    assert (code, outcomes(stdout)) == (0, ["success"]), stderr
    headers = api.only_request()
    assert headers["authorization"] == API_VALUE
    assert "x-auth-token" not in headers
    assert "api-secret" not in stdout + stderr


def test_cli_reads_the_header_value_from_a_file(api: HeaderRecorder, tmp_path: Path):
    auth_file = tmp_path / "api-auth"
    auth_file.write_text("key-from-file-77\n")
    auth_file.chmod(0o600)
    args = http_args(
        api, "op-1", "--api-auth-header", "X-Api-Key", "--api-auth-file", str(auth_file)
    )

    code, stdout, stderr = run_main(args, {}, home=tmp_path)

    assert (code, outcomes(stdout), stderr.count("warning")) == (0, ["success"], 0), stderr
    assert api.only_request()["x-api-key"] == "key-from-file-77"


def test_cli_warns_when_others_can_read_the_header_file(api: HeaderRecorder, tmp_path: Path):
    auth_file = tmp_path / "api-auth-shared"
    auth_file.write_text(API_VALUE)
    auth_file.chmod(0o644)

    code, _, stderr = run_main(
        http_args(api, "op-1", "--api-auth-file", str(auth_file)), {}, home=tmp_path
    )

    assert code == 0
    [warning] = [e for e in map(json.loads, stderr.splitlines()) if e["level"] == "warning"]
    assert warning["event"] == "api_auth_file_readable_by_others"
    assert warning["fix"] == f"chmod 600 {auth_file}"
    assert "api-secret" not in stderr


def test_cli_sends_the_huawei_token_only_when_asked(api: HeaderRecorder, tmp_path: Path):
    env = {"WAITER_AUTH_TOKEN": TOKEN}

    code, stdout, stderr = run_main(http_args(api, "op-1", "--api-huawei-auth"), env, home=tmp_path)

    assert (code, outcomes(stdout)) == (0, ["success"]), stderr
    assert api.only_request()["x-auth-token"] == TOKEN


def test_cli_takes_the_opt_in_from_the_environment_too(api: HeaderRecorder, tmp_path: Path):
    for value in ("false", "true"):
        env = {"WAITER_AUTH_TOKEN": TOKEN, "WAITER_API_HUAWEI_AUTH": value}
        code, _, stderr = run_main(http_args(api, "op-1"), env, home=tmp_path)
        assert code == 0, stderr

    assert [headers.get("x-auth-token") for headers in api.requests] == [None, TOKEN]


def test_cli_runs_the_http_api_without_any_credentials(api: HeaderRecorder, tmp_path: Path):
    code, stdout, stderr = run_main(http_args(api, "op-1", "op-2"), {}, home=tmp_path)

    assert (code, sorted(outcomes(stdout))) == (0, ["success", "success"]), stderr
    assert all(huawei_headers(headers) == set() for headers in api.requests)


def test_cli_needs_a_project_id_only_for_a_template_with_one(api: HeaderRecorder, tmp_path: Path):
    template = "/p/{project_id}/ops/{task_id}"

    code, stdout, stderr = run_main(http_args(api, "op-1", template=template), {}, home=tmp_path)

    assert (code, stdout) == (2, "")
    assert stderr.startswith("waiter: error: no project ID: set --project-id (or WAITER_PROJECT_ID")
    assert stderr.count("\n") == 1
    assert api.requests == []

    code, stdout, _ = run_main(
        http_args(api, "op-1", "--project-id", PROJECT, template=template), {}, home=tmp_path
    )
    assert (code, outcomes(stdout)) == (0, ["success"])
    assert api.paths == [f"/p/{PROJECT}/ops/op-1"]


def test_cli_show_config_shows_the_header_value_as_stars(api: HeaderRecorder, tmp_path: Path):
    env = {**HUAWEI_ENV, "WAITER_API_AUTH": API_VALUE}

    code, stdout, stderr = run_main(http_args(api, "--show-config"), env, home=tmp_path)

    assert (code, stderr) == (0, "")
    assert '# api_auth = "***"  # environment WAITER_API_AUTH' in stdout
    assert "# api auth: header Authorization from environment WAITER_API_AUTH" in stdout
    assert (
        "# credentials: no Huawei credentials: the http task API sends them to the URL "
        "template's host only with --api-huawei-auth (or WAITER_API_HUAWEI_AUTH, "
        "api.huawei_auth)"
    ) in stdout
    assert "huawei_auth = false  # default" in stdout
    assert 'auth_header = "Authorization"  # default' in stdout
    assert "api-secret" not in stdout
    assert api.requests == []


def test_cli_names_the_apis_header_when_it_is_refused(tmp_path: Path):
    server = HeaderRecorder(status=401).start()
    try:
        env = {"WAITER_API_AUTH": API_VALUE}
        code, stdout, stderr = run_main(http_args(server, "op-1"), env, home=tmp_path)
    finally:
        server.stop()

    assert code == 4
    [result] = [json.loads(line) for line in stdout.splitlines()]
    assert "environment WAITER_API_AUTH (header Authorization)" in result["error"]
    assert "api-secret" not in stdout + stderr


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--api-auth-header", "X Bad"], {}, "--api-auth-header must be an HTTP header name"),
        (["--api-auth-header", "Host"], {}, "--api-auth-header must be a header that carries"),
        ([], {"WAITER_API_AUTH": "Bearer a\x01b"},
         "WAITER_API_AUTH in the environment contains control or non-ASCII"),
        ([], {"WAITER_API_AUTH": API_VALUE, "WAITER_API_AUTH_FILE": "/x"},
         "both environment WAITER_API_AUTH and environment WAITER_API_AUTH_FILE are set"),
        (["--api-huawei-auth"], {"WAITER_AUTH_TOKEN": TOKEN, "WAITER_API_AUTH": API_VALUE,
                                  "WAITER_API_AUTH_HEADER": "x-auth-token"},
         "WAITER_API_AUTH_HEADER in the environment is x-auth-token, a header the Huawei "
         "credentials send too (--api-huawei-auth is on): give the API's own credentials in "
         "another header (e.g. X-Api-Key) with --api-auth-header (or WAITER_API_AUTH_HEADER, "
         "api.auth_header), or drop one of the two"),
        (["--api-huawei-auth"], {}, "no credentials: set WAITER_AUTH_TOKEN"),
    ],
    ids=["bad-name", "host", "control-char", "two-sources", "clash", "opt-in-without-any"],
)  # fmt: skip
def test_cli_bad_http_auth_settings_are_one_line_and_exit_2(
    api: HeaderRecorder, tmp_path: Path, args: list[str], env: dict[str, str], says: str
):
    code, stdout, stderr = run_main(http_args(api, "op-1", *args), env, home=tmp_path)

    assert (code, stdout) == (2, "")
    assert stderr.startswith("waiter: error: ")
    assert says in stderr
    assert stderr.count("\n") == 1
    assert "api-secret" not in stderr
    assert api.requests == []


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("", "is empty; put the value of the Authorization header in it"),
        ("Bearer qq-1\nBearer qq-2\n", "holds control or non-ASCII characters, or more than one"),
        ("x" * (64 * 1024 + 1), "is larger than 64 KiB: not a token file"),
    ],
    ids=["empty", "two-lines", "too-large"],
)
def test_cli_a_bad_header_file_is_one_line_and_exit_2(
    api: HeaderRecorder, tmp_path: Path, content: str, says: str
):
    auth_file = tmp_path / "api-auth"
    auth_file.write_text(content)
    auth_file.chmod(0o600)

    code, stdout, stderr = run_main(
        http_args(api, "op-1", "--api-auth-file", str(auth_file)), {}, home=tmp_path
    )

    assert (code, stdout) == (2, "")
    assert stderr.startswith(f"waiter: error: --api-auth-file {auth_file} {says}")
    assert stderr.count("\n") == 1
    assert "qq-" not in stderr
    assert api.requests == []
