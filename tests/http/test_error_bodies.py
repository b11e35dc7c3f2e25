"""Error bodies read as the official SDK reads them: the three pairs of names, at any depth, the
encoded authorization message, and the status as the code when the body has none.

The SDK's own ``DefaultExceptionHandler`` (huaweicloudsdkcore, the test extra) is the oracle:
the same bodies go to both, and what each reads must agree.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from helpers import serving, settings_for
from hypothesis import given, settings
from hypothesis import strategies as st
from virtual_time import run_virtual

from waiter import Outcome, wait_for
from waiter._errors import (
    ApiError,
    AuthError,
    EndpointError,
    NotFound,
    PermissionDenied,
    RequestRejected,
    TransientError,
)
from waiter._http._errors import (
    MAX_ENCODED_CHARS,
    MAX_ERROR_DEPTH,
    MAX_MESSAGE_CHARS,
    _error_fields,
    error_from_answer,
)
from waiter._redact import remember_secrets

requests = pytest.importorskip("requests")
exception_handler = pytest.importorskip("huaweicloudsdkcore.exceptions.exception_handler")
sdk_exceptions = pytest.importorskip("huaweicloudsdkcore.exceptions.exceptions")

BLOB = "Ab3-encoded_authorization_message-Zz9" * 20


def _body(document: object) -> bytes:
    return json.dumps(document).encode()


def sdk_reads(status: int, body: bytes) -> Any:
    """The SDK's ServiceResponseException for this answer (error_code, error_msg, ...)."""
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.encoding = "utf-8"
    with pytest.raises(sdk_exceptions.ServiceResponseException) as raised:
        exception_handler.DefaultExceptionHandler().handle_exception(None, response)
    return raised.value


def _same(ours: str | None, sdk: object) -> bool:
    """Whether waiter's text for a field is the SDK's value; an object or a list where text
    belongs is only shown, in a bounded rendering of waiter's own (keys sorted, say)."""
    if isinstance(sdk, dict | list):
        return bool(ours)
    return ours == str(sdk)


def assert_reads_as_the_sdk(status: int, body: bytes) -> ApiError:
    sdk = sdk_reads(status, body)
    ours = error_from_answer(status, body, {})
    fields = _error_fields(body)
    assert _same(ours.code, sdk.error_code)
    # Where the SDK finds no message it takes the whole body; waiter quotes its start instead.
    assert _same(fields.message or body.decode(), sdk.error_msg)
    if sdk.encoded_auth_msg:
        assert _same(ours.encoded_authorization_message, sdk.encoded_auth_msg)
    else:
        assert ours.encoded_authorization_message is None
    return ours


# --- the shapes, as both read them -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"error_code": "KPS.0002", "error_msg": "flat"}, "KPS.0002", "flat"),
        ({"errorCode": "KPS.0002", "errorMsg": "camel"}, "KPS.0002", "camel"),
        ({"code": "KPS.0002", "message": "plain"}, "KPS.0002", "plain"),
        ({"error": {"code": "KPS.0002", "message": "nested"}}, "KPS.0002", "nested"),
        ({"itemNotFound": {"code": 404, "message": "no such item"}}, "404", "no such item"),
        ({"a": {"b": {"c": {"errorCode": "Deep.1", "errorMsg": "three down"}}}}, "Deep.1",
         "three down"),
        # Pairs in the SDK's order: error_code/error_msg first, whatever the document's order.
        ({"code": "C", "message": "m", "error_code": "E", "error_msg": "e"}, "E", "e"),
        # A pair at the top level is not looked past.
        ({"code": "top", "message": "t", "error": {"code": "inner", "message": "i"}}, "top", "t"),
        # Siblings: the last one found wins, as in the SDK.
        ({"x": {"code": "first", "message": "1"}, "y": {"code": "second", "message": "2"}},
         "second", "2"),
        # A lone code is no pair: the status stands in.
        ({"error_code": "KPS.0002"}, "400", None),
        ({"error_code": "", "error_msg": ""}, "400", None),
        ({"error": [{"code": "in-a-list", "message": "lists are not looked into"}]}, "400", None),
    ],
    ids=["flat", "camel", "code-message", "error", "itemNotFound", "deep", "pair-order",
         "top-wins", "last-sibling", "lone-code", "empty-pair", "list"],
)  # fmt: skip
def test_the_sdks_shapes_read_the_same(body, code, message):
    error = assert_reads_as_the_sdk(400, _body(body))
    assert error.code == code
    assert _error_fields(_body(body)).message == message
    assert isinstance(error, RequestRejected)


# JSON values small enough that nothing is clipped, with the names the walk looks for.
_NAMES = st.sampled_from(
    ["error_code", "error_msg", "errorCode", "errorMsg", "code", "message", "error",
     "encoded_authorization_message", "request_id", "other"]
)  # fmt: skip
_LEAVES = st.none() | st.booleans() | st.integers(-5, 5000) | st.text(max_size=12)
_DOCUMENTS = st.recursive(
    st.dictionaries(_NAMES, _LEAVES, max_size=4),
    lambda inner: st.dictionaries(_NAMES, _LEAVES | inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(document=_DOCUMENTS, status=st.sampled_from([400, 403, 404, 429, 500, 503]))
def test_any_small_error_body_reads_as_the_sdk_reads_it(document, status):
    assert_reads_as_the_sdk(status, _body(document))


@pytest.mark.parametrize("body", [b"", b"<html>Service Unavailable</html>", b"[1, 2]", b'"x"'])
def test_a_body_without_a_code_has_the_status_as_its_code(body):
    sdk = sdk_reads(503, body)
    error = error_from_answer(503, body, {})
    assert error.code == str(sdk.error_code) == "503"
    assert isinstance(error, TransientError)


# --- what the user sees ------------------------------------------------------------------------


def test_a_non_json_answer_does_not_say_its_status_twice():
    error = error_from_answer(503, b"upstream connect error", {"X-Request-Id": "r-1"})
    assert str(error) == "upstream connect error (HTTP 503, request ID r-1)"


def test_an_empty_answer_says_what_its_status_means():
    assert str(error_from_answer(503, b"", {})) == "Service Unavailable (HTTP 503)"
    assert str(error_from_answer(599, b"", {})) == "no reason given (HTTP 599)"
    refused = error_from_answer(401, b"", {}, credentials="the token file")
    assert str(refused).startswith("Unauthorized (the credentials were refused")
    assert str(refused).count("HTTP 401") == 1


def test_a_code_of_its_own_is_still_shown_first():
    error = error_from_answer(503, _body({"error_code": "SYS.0503", "error_msg": "busy"}), {})
    assert str(error) == "SYS.0503: busy (HTTP 503)"


def test_a_403s_encoded_authorization_message_is_kept_and_shown():
    body = _body(
        {"error_msg": "denied", "error_code": "KPS.0403", "encoded_authorization_message": BLOB}
    )
    error = assert_reads_as_the_sdk(403, body)
    assert isinstance(error, PermissionDenied)
    assert error.encoded_authorization_message == BLOB
    assert str(error).startswith("KPS.0403: denied (the credentials lack a permission")
    assert f"; encoded authorization message: {BLOB} (HTTP 403)" in str(error)


def test_an_encoded_authorization_message_nested_or_alone_is_found():
    nested = _body({"error": {"code": "IAM.0403", "message": "no", "encoded_authorization_message":
                              BLOB}})  # fmt: skip
    assert assert_reads_as_the_sdk(403, nested).encoded_authorization_message == BLOB
    alone = _body({"encoded_authorization_message": BLOB})
    error = assert_reads_as_the_sdk(403, alone)
    assert (error.code, error.encoded_authorization_message) == ("403", BLOB)


def test_a_huge_encoded_authorization_message_is_cut():
    body = _body({"error_code": "KPS.0403", "error_msg": "no", "encoded_authorization_message":
                  "e" * 1_000_000})  # fmt: skip
    error = error_from_answer(403, body, {})
    assert len(error.encoded_authorization_message or "") < MAX_ENCODED_CHARS + 40
    assert len(str(error)) < MAX_MESSAGE_CHARS + MAX_ENCODED_CHARS + 300


def test_an_encoded_authorization_message_is_redacted():
    secret = "sk-registered-3b2a1f0e9d8c"
    remember_secrets(secret)
    body = _body({"error_code": "KPS.0403", "error_msg": "no",
                  "encoded_authorization_message": f"blob-{secret}-blob"})  # fmt: skip
    error = error_from_answer(403, body, {})
    assert secret not in (error.encoded_authorization_message or "")
    assert secret not in str(error)
    assert "blob-" in (error.encoded_authorization_message or "")


# --- bounded, and never raising ----------------------------------------------------------------


def _nested(depth: int, leaf: dict[str, object]) -> dict[str, object]:
    document = leaf
    for _ in range(depth):
        document = {"inner": document}
    return document


def test_a_pair_is_found_within_the_depth_bound_and_not_beyond():
    leaf = {"code": "DEEP", "message": "m"}
    assert error_from_answer(400, _body(_nested(MAX_ERROR_DEPTH, leaf)), {}).code == "DEEP"
    assert error_from_answer(400, _body(_nested(MAX_ERROR_DEPTH + 1, leaf)), {}).code == "400"


@pytest.mark.parametrize(
    "body",
    [
        _body(_nested(900, {"code": "x", "message": "y"})),  # deep, but json can parse it
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,  # deeper than json can parse
        _body({f"k{i}": {"other": {}} for i in range(50_000)}),  # wide
        _body({"code": {"nested": "object"}, "message": ["a", "list"]}),
        _body({"code": 10**300, "message": 1e308, "encoded_authorization_message": {"a": 1}}),
        b"\xff\xfe not utf-8",
    ],
    ids=["deep", "too-deep", "wide", "odd-types", "odd-numbers", "not-utf-8"],
)
@pytest.mark.parametrize(
    ("status", "kind"),
    [(401, AuthError), (403, PermissionDenied), (404, NotFound), (400, RequestRejected),
     (503, TransientError), (302, EndpointError)],
)  # fmt: skip
def test_any_body_gives_the_error_of_its_status_and_never_raises(body, status, kind):
    error = error_from_answer(status, body, {})
    assert type(error) is kind
    assert error.code
    assert len(str(error)) < MAX_MESSAGE_CHARS + MAX_ENCODED_CHARS + 500


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.recursive(
    st.none() | st.booleans() | st.floats() | st.text(max_size=20) | st.integers(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_NAMES | st.text(), inner,
                                                                max_size=4),
    max_leaves=30,
).map(lambda value: json.dumps(value).encode()))  # fmt: skip
def test_any_body_at_all_never_raises(body):
    assert type(error_from_answer(403, body, {})) is PermissionDenied


# --- through a run -----------------------------------------------------------------------------


def test_a_run_shows_the_encoded_authorization_message_in_the_result():
    async def denied(request: web.Request) -> web.Response:
        document = {"error_code": "KPS.0403", "error_msg": "denied",
                    "encoded_authorization_message": BLOB}  # fmt: skip
        return web.json_response(document, status=403, headers={"X-Request-Id": "r-9"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", denied)

    async def scenario():
        async with serving(app) as url:
            return await wait_for(["t1"], settings_for(url))

    [result] = run_virtual(scenario())
    assert result.outcome is Outcome.ERROR
    assert result.error_code == "KPS.0403"
    assert f"encoded authorization message: {BLOB}" in (result.error or "")
    assert list(result.to_dict()) == [
        "task_id", "outcome", "status", "server_id", "polls", "elapsed_s", "error"
    ]  # fmt: skip
