"""The small helpers every poll goes through give what the standard library would."""

from __future__ import annotations

import json
import random
from urllib.parse import quote

import pytest

from waiter._http._client import path_segment
from waiter._http._errors import parse_json


def _json_loads(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


@pytest.mark.parametrize(
    "text", ["", ".", "..", "poll-000001", "a~b_c.d", "a/b", "x y", "é", "\u202e", "50%", "\n"]
)
def test_a_path_segment_is_encoded_as_quote_encodes_it(text: str):
    assert path_segment(text) == quote(text, safe="")


def test_path_segments_of_any_text_are_encoded_as_quote_encodes_them():
    rng = random.Random(12)
    alphabet = [chr(code) for code in range(300)] + ["é", "\u202e", "\U0001f600"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(8)))
        assert path_segment(text) == quote(text, safe=""), repr(text)


@pytest.mark.parametrize(
    "body",
    [
        b'{"task_status": "RUNNING_RESET"}',
        b'{"a": "\xed\xa0\x80"}',  # an encoded surrogate: json.loads(bytes) lets it through
        b'{"a": "\xff"}',  # not UTF-8
        '{"a": "é"}'.encode("utf-16-le"),  # an object all the same
        '{"a": "é"}'.encode("utf-32-le"),
        b"\xef\xbb\xbf{}",  # a byte-order mark
        b"{",
        b"{}",
        b"{} \r\n\t",  # white space after it
        b"{} x",  # anything else after it: extra data
        b"{}{}",
        b"{}\x00",
        b"[1]",
        b"",
        b'{"a": 1e999999}',
        b"{" * 100_000,  # nested too deep for the parser
    ],
)
def test_an_answer_is_parsed_as_json_loads_parses_its_bytes(body: bytes):
    assert repr(parse_json(body)) == repr(_json_loads(body))


def test_answers_of_any_bytes_are_parsed_as_json_loads_parses_them():
    rng = random.Random(7)
    for _ in range(20_000):
        body = b"{" + bytes(rng.randrange(256) for _ in range(rng.randrange(8)))
        assert repr(parse_json(body)) == repr(_json_loads(body)), body
