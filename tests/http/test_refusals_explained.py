"""A 401 explained, without a server: a far-off ``Date`` blames the clock, a refused signature
with a good clock the keys, and a refused token never the clock.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from waiter._http._errors import error_from_answer


def _body(code: str, message: str) -> bytes:
    return json.dumps({"error_code": code, "error_msg": message}).encode()


def test_a_date_header_far_from_our_clock_blames_the_clock():
    now = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    headers = {"Date": "Mon, 06 May 2024 11:00:00 GMT"}

    error = error_from_answer(
        401, _body("APIGW.0301", "Incorrect IAM authentication information"), headers,
        credentials="profile file /x", signed=True, now=now,
    )  # fmt: skip

    assert "credentials from profile file /x were refused because" in str(error)
    assert "about 60 minutes ahead of the server's" in str(error)


def test_a_refused_signature_with_a_good_clock_says_to_check_the_keys():
    now = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    headers = {"Date": "Mon, 06 May 2024 12:01:00 GMT"}

    error = error_from_answer(
        401, _body("APIGW.0301", "verify aksk signature fail"), headers, signed=True, now=now
    )

    assert "the credentials were refused: check the access key and its secret key" in str(error)
    assert "clock" not in str(error)


def test_a_refused_token_never_blames_the_clock():
    headers = {"Date": "Mon, 06 May 2024 11:00:00 GMT"}

    error = error_from_answer(401, _body("APIGW.0301", "token expired"), headers)

    assert "the credentials were refused: the token is wrong or expired" in str(error)
