"""The SDK's profile file (``~/.huaweicloud/credentials``): read as the SDK reads it; a broken,
unreadable or world-readable one is named in one line, and its secrets never shown.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog
from helpers import AK, SK, ST, basic_profile, config_error, write

from waiter import ConfigError, Settings
from waiter._auth._signing import AkSkCredentials
from waiter._auth._sources import find_credentials
from waiter._cli._logs import Redactor
from waiter._config._settings import load_settings


def test_a_profile_file_is_read_as_the_sdk_reads_it(tmp_path: Path):
    # Upper-case keys, spaces around values, a "%" in the secret: all as configparser allows.
    text = "[basic]\nAK =  HPUAEXAMPLEKEY0000001  \nSK = se%cret/with+chars\n[other]\nak = x\n"
    path = write(tmp_path / "credentials", text)

    found = find_credentials(Settings(credentials_file=path))

    assert found.keys == AkSkCredentials(AK, "se%cret/with+chars")
    assert found.profile_project_id is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[default]\nak = a\nsk = b\n", "has no [basic] section"),
        (f"ak = {AK}\nsk = {SK}\n", "is not an INI file (line 1 comes before any [section]"),
        (f"[basic]\nak = {AK}\n{SK}\n", "is not an INI file (line 3 is neither"),
        (f"[basic]\nak = {AK}\n[basic]\nsk = {SK}\n", "is not an INI file (line 3 repeats"),
        (f"[basic]\nak = {AK}\n", "[basic] has no sk"),
        ("[basic]\nak =\nsk =\n", "[basic] has no ak and no sk"),
        (f"[basic]\nak = {AK}\nsk = {SK}\nproject_id = a/b\n", "project_id must be 1-64"),
        (f"[basic]\nak = {AK}\nsk = {SK} tail\n", "sk contains spaces or control characters"),
    ],
    ids=[
        "no basic section", "no header", "bare line", "repeated section", "no sk",
        "empty values", "bad project id", "space in secret",
    ],
)  # fmt: skip
def test_a_broken_profile_file_is_one_line_naming_it_and_never_the_secret(
    tmp_path: Path, text: str, says: str
):
    path = write(tmp_path / "credentials", text)

    with pytest.raises(ConfigError) as excinfo:
        find_credentials(Settings(credentials_file=path))

    message = config_error(excinfo)
    assert f"credentials file {path}" in message
    assert says in message
    assert SK not in message
    assert excinfo.value.setting == "credentials_file"


def test_a_profile_file_that_cannot_be_read_names_the_variable_that_pointed_at_it(
    tmp_path: Path,
):
    missing = tmp_path / "nope"

    settings = load_settings(env={"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(missing)}).settings
    with pytest.raises(ConfigError) as excinfo:
        find_credentials(settings)

    message = config_error(excinfo)
    assert f"credentials file {missing} (from environment HUAWEICLOUD_SDK_CREDENTIALS_FILE)" in (
        message
    )
    assert "cannot be read (No such file or directory)" in message


def test_a_profile_file_that_is_not_text_is_named(tmp_path: Path):
    path = tmp_path / "credentials"
    path.write_bytes(b"\xff\xfe[\x00b\x00")

    with pytest.raises(ConfigError, match="not UTF-8 text"):
        find_credentials(Settings(credentials_file=path))


def test_a_profile_file_others_can_read_gets_a_warning(profile: Path):
    write(profile, basic_profile(), mode=0o644)

    with structlog.testing.capture_logs() as events:
        find_credentials(Settings())

    [warning] = events
    assert warning["event"] == "credentials_file_readable_by_others"
    assert warning["fix"] == f"chmod 600 {profile}"


def test_secrets_read_from_files_are_masked_in_logs_too(profile: Path):
    write(profile, basic_profile(security_token=ST))
    redactor = Redactor([])

    find_credentials(Settings())  # reading the file teaches the redaction its secrets

    event = redactor(None, "info", {"event": f"sk={SK} token={ST}"})
    assert event["event"] == "sk=*** token=***"
