"""Task IDs: lines read without blanks and comments, duplicates dropped, malformed IDs refused
naming them, and none at all no error (the command line refuses that itself).
"""

from __future__ import annotations

import pytest
from helpers import config_error

from waiter import ConfigError
from waiter._apis._task_ids import check_task_ids, parse_id_lines


def test_id_lines_ignore_blanks_and_comments():
    text = "a1\n\n   \n# a comment\n  # indented comment\n  b2  \nc3\r\n"
    assert parse_id_lines(text) == ["a1", "b2", "c3"]


def test_task_ids_are_deduplicated_in_first_seen_order():
    assert check_task_ids(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


@pytest.mark.parametrize(
    "bad", ["", ".", "..", "a/b", "a b", "%2e", "a\nb", "a\\b", "é", "x" * 129, "a?b", "a#b"]
)
def test_a_malformed_task_id_is_refused_naming_it(bad: str):
    with pytest.raises(ConfigError) as excinfo:
        check_task_ids(["good-id", bad])

    message = config_error(excinfo)
    assert repr(bad) in message
    assert "1-128 characters" in message


def test_the_longest_task_id_of_the_allowed_alphabet_is_accepted():
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
    longest = (alphabet * 2)[:128]
    assert len(longest) == 128
    assert check_task_ids([longest, "...", "a.b", "-"]) == [longest, "...", "a.b", "-"]


def test_no_task_ids_are_no_error_in_the_library():
    # The command line refuses an empty list in its own words (tests/cli); the library waits on
    # nothing, so its check must not speak of flags or stdin.
    assert check_task_ids([]) == []
    assert check_task_ids(parse_id_lines("# nothing here\n\n")) == []
