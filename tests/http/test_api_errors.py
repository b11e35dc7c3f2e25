"""Huawei error answers become typed errors that keep the code, message and request ID."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from waiter._errors import (
    AuthError,
    EndpointError,
    NotFound,
    PermissionDenied,
    RequestRejected,
    TransientError,
)
from waiter._http._errors import error_from_answer, parse_retry_after


def _body(document: object) -> bytes:
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    "body",
    [
        {"error_code": "KPS.0002", "error_msg": "bad thing"},
        {"error": {"code": "KPS.0002", "message": "bad thing"}},
        {"error": {"error_code": "KPS.0002", "error_msg": "bad thing"}},
        {"error_code": "KPS.0002", "error_msg": "bad thing", "request_id": "from-body"},
    ],
    ids=["flat", "nested", "nested-huawei-names", "gateway"],
)
def test_every_huawei_error_shape_keeps_code_and_message(body):
    error = error_from_answer(400, _body(body), {"X-Request-Id": "req-1"})
    assert isinstance(error, RequestRejected)
    assert (error.code, error.message, error.http_status) == ("KPS.0002", "bad thing", 400)
    assert error.request_id == "req-1"  # the header wins over the body
    assert str(error) == "KPS.0002: bad thing (HTTP 400, request ID req-1)"


def test_the_gateway_request_id_is_used_when_the_header_is_missing():
    body = {"error_code": "APIGW.0308", "error_msg": "throttled", "request_id": "gw-7"}
    error = error_from_answer(429, _body(body), {})
    assert isinstance(error, TransientError)
    assert error.request_id == "gw-7"


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, "APIGW.0301", AuthError),
        (403, "KPS.0403", PermissionDenied),
        (404, "APIGW.0101", EndpointError),
        (404, "KPS.0404", NotFound),
        (400, "KPS.0001", NotFound),
        (429, "APIGW.0308", TransientError),
        (500, None, TransientError),
        (502, None, TransientError),
        (503, None, TransientError),
        (504, None, TransientError),
        (302, None, EndpointError),
        (400, "KPS.0002", RequestRejected),
    ],
)
def test_status_and_code_pick_the_error_kind(status, code, kind):
    body = _body({"error_code": code, "error_msg": "m"}) if code else b""
    error = error_from_answer(status, body, {}, not_found_codes={"KPS.0001"})
    assert type(error) is kind


def test_a_wrong_endpoint_is_named_as_the_likely_cause():
    error = error_from_answer(404, _body({"error_code": "APIGW.0101", "error_msg": "no API"}), {})
    assert "endpoint or region is probably wrong" in str(error)


def test_a_redirect_says_where_it_pointed():
    error = error_from_answer(301, b"", {"Location": "https://elsewhere.example/x"})
    assert "https://elsewhere.example/x" in str(error)


def test_a_non_json_error_body_is_quoted_briefly():
    error = error_from_answer(502, b"<html>" + b"x" * 1000, {})
    assert error.message.startswith("<html>")
    assert len(error.message) <= 200


def test_retry_after_in_seconds_and_as_an_http_date():
    assert parse_retry_after("7") == 7
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    in_30_s = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (parse_retry_after(in_30_s) or 0) <= 30
    error = error_from_answer(503, b"", {"Retry-After": "12"})
    assert error.retry_after == 12
