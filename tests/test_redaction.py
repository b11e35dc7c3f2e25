"""Secrets never leave: one redactor for logs, results, the text table, reports and exceptions.

The end-to-end tests run a server on 127.0.0.1 that does what a careless gateway does: it
answers errors quoting the request's headers (as JSON, as a Python dict, as raw header lines)
and the very values it was sent. Every way text leaves waiter is then searched for the token,
the access key, the secret key, the security token and the signature.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiohttp import web
from helpers import served_on_a_thread, serving
from virtual_time import run_virtual

from waiter import ConfigError, Outcome, Settings, TaskResult, wait_for
from waiter._cli._logs import configure_logging
from waiter._cli._main import main
from waiter._cli._output import ResultPrinter
from waiter._cli._reports import append_markdown_summary, write_junit_xml
from waiter._errors import ApiError
from waiter._http._errors import error_from_answer
from waiter._redact import LONG_SECRET, redact, remember_secrets

PROJECT = "0123456789abcdef0123456789abcdef"
TOKEN = "MIIE-redaction-token-7c1f0e9a"
AK = "HPUAREDACTIONKEY77001"
SK = "sk-redaction-secret-42d9e1"
ST = "st-redaction-security-5b8a0c"
# What the server quotes back, and so what must never be shown.
CREDENTIAL_HEADERS = ("X-Auth-Token", "Authorization", "X-Security-Token")
ECHO_TASKS = ["json-echo", "repr-echo", "raw-echo", "quoting"]


# --- redact() -------------------------------------------------------------------------------


def test_text_without_secrets_or_credential_headers_is_returned_as_it_is():
    text = "task t1 ended in FAILED_RESET: KPS.0002: the key pair could not be reset"

    assert redact(text) is text
    remember_secrets("some-long-secret-value-0001", "shrt")
    assert redact(text) is text


def test_a_short_secret_is_masked_only_as_a_whole_word():
    remember_secrets("test")

    assert redact("latest tests attest testing") == "latest tests attest testing"
    assert redact("test") == "***"
    assert redact("token=test; (test) test.") == "token=***; (***) ***."
    assert redact("'test', test-2, x_test") == "'***', ***-2, x_***"


def test_a_long_secret_is_masked_wherever_it_occurs():
    secret = "abcdefghijklmnop"
    assert len(secret) >= LONG_SECRET
    remember_secrets(secret)

    assert redact(f"x{secret}y and {secret}") == "x***y and ***"


def test_the_longest_secret_is_masked_first():
    remember_secrets("abcd1234", "abcd1234efgh5678ijkl")

    assert redact("abcd1234efgh5678ijkl") == "***"
    assert redact("abcd1234 then abcd1234efgh5678ijkl") == "*** then ***"


def test_secrets_are_masked_literally_and_none_or_blank_is_ignored():
    remember_secrets(None, "", "   ", "a+b(c)*[d]?$1234", " padded-secret-value-99 ")

    assert redact("key a+b(c)*[d]?$1234 here") == "key *** here"
    assert redact("was padded-secret-value-99.") == "was ***."
    assert redact("nothing here at all") == "nothing here at all"


def test_huawei_signature_parts_are_masked_whatever_their_value():
    header = (
        "SDK-HMAC-SHA256 Access=HPUAUNKNOWN000000009, SignedHeaders=host;x-sdk-date, "
        "Signature=0f3c9a1b2c3d4e5f"
    )

    assert redact(header) == (
        "SDK-HMAC-SHA256 Access=***, SignedHeaders=host;x-sdk-date, Signature=***"
    )
    assert redact(f"Authorization: {header}") == (
        "Authorization: SDK-HMAC-SHA256 Access=***, SignedHeaders=host;x-sdk-date, Signature=***"
    )


@pytest.mark.parametrize(
    ("echoed", "masked"),
    [
        ("X-Auth-Token: MIIunknownvalue", "X-Auth-Token: ***"),
        ("x-security-token:abc123 next", "x-security-token:*** next"),
        ('{"X-Auth-Token": "MIIun+known/=", "Host": "h"}', '{"X-Auth-Token": "***", "Host": "h"}'),
        ("{'X-Subject-Token': 'abc', 'Host': 'h'}", "{'X-Subject-Token': '***', 'Host': 'h'}"),
        ("[('X-Security-Token', 'abc'), ('H', 'h')]", "[('X-Security-Token', '***'), ('H', 'h')]"),
        ("{'Authorization': 'Custom two words'}", "{'Authorization': '***'}"),
        ("X-Auth-Token=abc; other=1", "X-Auth-Token=***; other=1"),
        ("HTTP_X_AUTH_TOKEN=abc", "HTTP_X_AUTH_TOKEN=***"),
        ("authorization: Bearer eyJ.x.y rest", "authorization: Bearer *** rest"),
        ('"X-Auth-Token": "a\\"b" tail', '"X-Auth-Token": "***" tail'),
    ],
)  # fmt: skip
def test_credential_headers_echoed_by_a_server_are_masked(echoed: str, masked: str):
    assert redact(echoed) == masked


@pytest.mark.parametrize(
    "prose",
    [
        "the X-Auth-Token header is missing",
        "Authorization failed for this user",
        "X-Auth-Token-Expiry: 2024-01-01",
        "token expired; access denied",
    ],
)
def test_header_names_in_prose_mask_nothing(prose: str):
    assert redact(prose) == prose


def test_a_known_secret_holding_a_comma_is_masked_whole_after_a_header_name():
    remember_secrets("abc,def;ghi-jkl-mno-pqr")

    assert redact("X-Auth-Token: abc,def;ghi-jkl-mno-pqr") == "X-Auth-Token: ***"


def test_a_secret_learnt_later_is_masked_from_then_on():
    assert redact("late-secret-0123456789") == "late-secret-0123456789"

    remember_secrets("late-secret-0123456789")

    assert redact("late-secret-0123456789") == "***"


# --- every way text leaves, fed a secret directly ---------------------------------------------


def test_api_error_messages_are_redacted_at_the_source():
    remember_secrets(TOKEN)

    error = ApiError(f"bad token {TOKEN}", code="X.1", request_id=f"req {TOKEN}")

    assert TOKEN not in str(error)
    assert TOKEN not in error.message
    assert TOKEN not in repr(error)
    assert TOKEN not in (error.request_id or "")
    assert TOKEN not in str(ConfigError(f"--flag {TOKEN} is wrong"))


def test_error_from_answer_masks_headers_a_server_echoes_in_its_body():
    body = json.dumps(
        {"error_code": "KPS.0400", "error_msg": f"you sent {json.dumps({'X-Auth-Token': TOKEN})}"}
    ).encode()

    error = error_from_answer(400, body, {})

    assert TOKEN not in str(error)  # not even registered: the header name gives it away
    assert '"X-Auth-Token": "***"' in str(error)


def _leaky_result() -> TaskResult:
    return TaskResult(
        "t1",
        Outcome.ERROR,
        status=f"S-{TOKEN}",
        server_id=f"srv {TOKEN}",
        polls=1,
        elapsed_s=1.0,
        error=f"echo X-Security-Token: {ST} and {TOKEN}",
        error_code="KPS.0400",
        request_id=f"req-{TOKEN}",
    )


@pytest.mark.parametrize("text", [True, False], ids=["text", "json"])
def test_results_printed_are_redacted_even_when_made_elsewhere(text: bool):
    remember_secrets(TOKEN)
    stream = io.StringIO()

    printer = ResultPrinter(text=text, stream=stream, task_ids=["t1"])
    printer.result(_leaky_result())

    assert TOKEN not in stream.getvalue()
    assert ST not in stream.getvalue()
    assert "***" in stream.getvalue()


def test_reports_are_redacted_even_when_results_are_not(tmp_path: Path):
    remember_secrets(TOKEN)
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    # A control character inside the secret is dropped by the report: the result must still
    # not become the secret.
    split = TaskResult("t2", Outcome.ERROR, None, None, 1, 1.0, f"{TOKEN[:5]}\x01{TOKEN[5:]}")

    write_junit_xml(junit, [_leaky_result(), split], elapsed_s=1.0)
    append_markdown_summary(summary, [_leaky_result(), split], elapsed_s=1.0)

    for path in (junit, summary):
        assert TOKEN not in path.read_text(encoding="utf-8")
        assert ST not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("json_logs", [True, False], ids=["json", "console"])
def test_log_lines_are_redacted_tracebacks_included(json_logs: bool):
    stream = io.StringIO()
    configure_logging(json=json_logs, level="debug", stream=stream, secrets=[TOKEN])
    log = structlog.get_logger("waiter")

    log.info("echoed", error=f"server said X-Security-Token: {ST}", token="anything")
    try:
        raise RuntimeError(f"a library quoting {TOKEN}")  # not an ApiError: not redacted at source
    except RuntimeError:
        log.debug("task_crashed", exc_info=True)

    output = stream.getvalue()
    assert "RuntimeError" in output
    assert TOKEN not in output
    assert ST not in output
    assert "anything" not in output  # a secret-named field, whatever it holds


# --- end to end: a server that echoes the request's headers -----------------------------------


class EchoServer:
    """A KPS-shaped server answering every poll with an error that quotes the request.

    ``json-echo``: 400 whose error_msg holds the credential headers as JSON; ``repr-echo``: 403
    with them as a Python dict; ``raw-echo``: 500 whose body is the raw header lines;
    ``quoting``: 400 naming the exact ``values`` it was told, with no header name around them.
    Any other task ID is answered ``status`` (RUNNING by default) and ``server_id``.
    """

    def __init__(self, values: tuple[str, ...] = (), status: str = "RUNNING") -> None:
        self.values = values
        self.status = status
        self.server_id = "srv-1"
        self.received: list[dict[str, str]] = []

    async def _task(self, request: web.Request) -> web.Response:
        headers = dict(request.headers)
        self.received.append(headers)
        # Credentials first: a long message is cut, and the point is to echo them.
        ordered = {name: headers[name] for name in CREDENTIAL_HEADERS if name in headers}
        ordered.update(headers)
        task = request.match_info["task"]
        if task == "json-echo":
            message = f"rejected, you sent {json.dumps(ordered)}"
            return web.json_response({"error_code": "KPS.0400", "error_msg": message}, status=400)
        if task == "repr-echo":
            message = f"denied for {ordered!r}"
            return web.json_response({"error_code": "KPS.0403", "error_msg": message}, status=403)
        if task == "raw-echo":
            lines = "".join(f"{name}: {value}\r\n" for name, value in ordered.items())
            return web.Response(text=lines, status=500, content_type="text/plain")
        if task == "quoting":
            message = f"these are wrong: {' and '.join(self.values)}"
            return web.json_response({"error_code": "KPS.0400", "error_msg": message}, status=400)
        return web.json_response({"task_status": self.status, "server_id": self.server_id})

    async def _projects(self, request: web.Request) -> web.Response:
        self.received.append(dict(request.headers))
        message = f"IAM refused {json.dumps(dict(request.headers))}"
        return web.json_response({"error_code": "IAM.0400", "error_msg": message}, status=400)

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        app = web.Application()
        app.router.add_get("/v3/{project}/tasks/{task}", self._task)
        app.router.add_get("/v3/projects", self._projects)
        async with serving(app) as url:
            yield url

    def sent(self, name: str) -> list[str]:
        return [headers[name] for headers in self.received if name in headers]


@pytest.fixture
def threaded_echo() -> Iterator[tuple[EchoServer, str]]:
    """The echo server on a thread of its own, for the command line's own event loop."""
    server = EchoServer(values=(TOKEN, AK, SK, ST))
    with served_on_a_thread(server.serve()) as url:
        yield server, url


def _signatures(server: EchoServer) -> set[str]:
    found = (re.search(r"Signature=([0-9a-f]+)", v) for v in server.sent("Authorization"))
    return {match.group(1) for match in found if match}


def _assert_nowhere(secrets: list[str], *texts: str) -> None:
    for secret in secrets:
        for text in texts:
            assert secret not in text


TOKEN_ENV = {"WAITER_AUTH_TOKEN": TOKEN}
KEYS_ENV = {
    "HUAWEICLOUD_SDK_AK": AK,
    "HUAWEICLOUD_SDK_SK": SK,
    "HUAWEICLOUD_SDK_SECURITY_TOKEN": ST,
}


@pytest.mark.parametrize("env", [TOKEN_ENV, KEYS_ENV], ids=["token", "access-key"])
@pytest.mark.parametrize(
    ("output", "log_format"), [("text", "console"), ("json", "json")], ids=["text", "json"]
)
def test_the_command_line_shows_no_secret_a_server_echoes(
    threaded_echo: tuple[EchoServer, str],
    tmp_path: Path,
    env: dict[str, str],
    output: str,
    log_format: str,
):
    server, url = threaded_echo
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    stdout, stderr = io.StringIO(), io.StringIO()
    args = [
        "--endpoint", url, "--project-id", PROJECT, "--min-interval", "0.05",
        "--max-interval", "0.2", "--timeout", "1", "--rate", "1000", "--log-level", "debug",
        "--output", output, "--log-format", log_format,
        "--junit-xml", str(junit), "--summary-file", str(summary), *ECHO_TASKS,
    ]  # fmt: skip

    code = main(args, stdin=io.StringIO(), stdout=stdout, stderr=stderr, env=env)

    assert code == 4, stderr.getvalue()
    shown = [stdout.getvalue(), stderr.getvalue(), junit.read_text(), summary.read_text()]
    # The server was sent the credentials, and quoted them back...
    if env is TOKEN_ENV:
        assert set(server.sent("X-Auth-Token")) == {TOKEN}
        secrets = [TOKEN]
    else:
        assert server.sent("X-Security-Token")
        assert set(server.sent("X-Security-Token")) == {ST}
        assert _signatures(server)
        secrets = [AK, SK, ST, *_signatures(server)]
    assert "you sent" in stdout.getvalue()
    # ...and none of it is shown anywhere, while the rest of what the server said is.
    _assert_nowhere(secrets, *shown)
    assert "***" in stdout.getvalue()


@pytest.mark.parametrize("env", [TOKEN_ENV, KEYS_ENV], ids=["token", "access-key"])
def test_the_library_returns_no_secret_a_server_echoes(env: dict[str, str]):
    server = EchoServer(values=tuple(env.values()))

    async def scenario() -> list[TaskResult]:
        async with server.serve() as url:
            settings = _settings(url, env, project_id=PROJECT, timeout=30.0)
            return await wait_for(ECHO_TASKS, settings)

    results = run_virtual(scenario())

    assert {r.task_id for r in results} == set(ECHO_TASKS)
    assert server.received
    for result in results:
        assert result.error
        assert "***" in result.error
        _assert_nowhere([*env.values(), *_signatures(server)], str(result))


def test_an_exception_from_the_library_holds_no_secret_a_server_echoes():
    server = EchoServer()

    async def scenario() -> None:
        async with server.serve() as url:
            # No project ID: it is looked up from IAM, which answers quoting the signed request.
            settings = _settings(url, KEYS_ENV, region="cn-north-4", iam_endpoint=url)
            await wait_for(["t1"], settings)

    with pytest.raises(ConfigError) as raised:
        run_virtual(scenario())

    assert server.sent("Authorization"), "the lookup was made, signed"
    message = str(raised.value)
    assert "IAM refused" in message
    _assert_nowhere([AK, SK, ST, *_signatures(server)], message, repr(raised.value))


def test_a_secret_in_a_status_or_server_id_is_masked_in_the_result():
    # A server that answers the token as the status: the result's fields come from the engine,
    # which passes them through redact().
    server = EchoServer(status=TOKEN)
    server.server_id = f"srv-{ST}"

    async def scenario() -> list[TaskResult]:
        async with server.serve() as url:
            settings = _settings(url, KEYS_ENV | TOKEN_ENV, project_id=PROJECT, timeout=30.0)
            return await wait_for(["t1"], settings)

    [result] = run_virtual(scenario())

    assert result.outcome is Outcome.ERROR  # an unknown status
    _assert_nowhere([TOKEN, ST], str(result))


def _settings(url: str, env: dict[str, str], **values: Any) -> Settings:
    names = {
        "WAITER_AUTH_TOKEN": "token",
        "HUAWEICLOUD_SDK_AK": "access_key",
        "HUAWEICLOUD_SDK_SK": "secret_key",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN": "security_token",
    }
    given = {names[name]: value for name, value in env.items()}
    return Settings(
        endpoint=url, min_interval=1.0, max_interval=4.0, rate=1000.0, **given, **values
    )
