"""Where credentials come from: the SDK's sources in the contract's order (a token, an access
key pair in the environment, the profile file, the ECS metadata service), and what is said
when there are none.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import (
    AK,
    HW_PAIR,
    OTHER_AK,
    OTHER_SK,
    SDK_PAIR,
    SK,
    ST,
    TOKEN,
    basic_profile,
    config_error,
    write,
)

from waiter import ConfigError, Settings
from waiter._auth._signing import AkSkCredentials
from waiter._auth._sources import find_credentials
from waiter._config._settings import load_settings


def found_for(env: dict[str, str], config: Path | None = None):
    return find_credentials(load_settings(config_path=config, env=env).settings)


def test_a_token_in_the_environment_beats_an_access_key_pair():
    found = found_for({"WAITER_AUTH_TOKEN": TOKEN, **SDK_PAIR})

    assert (found.kind, found.source) == ("token", "environment WAITER_AUTH_TOKEN")
    assert found.keys is None


def test_a_token_file_beats_an_access_key_pair(tmp_path: Path):
    token_file = write(tmp_path / "token", TOKEN)

    settings = load_settings(flags={"token_file": str(token_file)}, env=SDK_PAIR).settings
    found = find_credentials(settings)

    assert (found.kind, found.token, found.source) == ("token", TOKEN, f"file {token_file}")


def test_the_sdk_family_beats_terraforms_family():
    found = found_for({**HW_PAIR, **SDK_PAIR, "HW_SECURITY_TOKEN": "hw-token"})

    assert found.kind == "access-key"
    assert found.source == "environment HUAWEICLOUD_SDK_AK"
    assert found.keys == AkSkCredentials(AK, SK)  # and not HW_SECURITY_TOKEN


def test_terraforms_family_with_its_security_token():
    found = found_for({**HW_PAIR, "HW_SECURITY_TOKEN": ST})

    assert found.source == "environment HW_ACCESS_KEY"
    assert found.keys == AkSkCredentials(OTHER_AK, OTHER_SK, ST)
    assert found.describe() == (
        "temporary access key from environment HW_ACCESS_KEY (signed requests)"
    )


def test_an_access_key_pair_in_the_environment_beats_the_profile_file(profile: Path):
    write(profile, basic_profile(OTHER_AK, OTHER_SK))

    found = found_for(dict(SDK_PAIR))

    assert found.source == "environment HUAWEICLOUD_SDK_AK"


def test_the_default_profile_file_is_used_when_the_environment_has_no_pair(profile: Path):
    write(profile, basic_profile(security_token=ST, project_id="fromthefile01"))

    found = found_for({})

    assert found.source == f"profile file {profile}"
    assert found.keys == AkSkCredentials(AK, SK, ST)
    assert found.profile_project_id == "fromthefile01"


def test_the_credentials_file_variable_beats_auth_credentials_file(tmp_path: Path):
    from_env = write(tmp_path / "from-env", basic_profile(OTHER_AK, OTHER_SK))
    from_config = write(tmp_path / "from-config", basic_profile())
    config = write(tmp_path / "c.toml", f'[auth]\ncredentials_file = "{from_config}"\n')

    assert found_for({}, config).source == f"profile file {from_config}"
    found = found_for({"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(from_env)}, config)
    assert found.source == f"profile file {from_env}"
    assert found.keys is not None
    assert found.keys.access_key == OTHER_AK


def test_auth_credentials_file_points_away_from_the_default(tmp_path: Path, profile: Path):
    write(profile, basic_profile(OTHER_AK, OTHER_SK))
    elsewhere = write(tmp_path / "ci-credentials", basic_profile())
    config = write(tmp_path / "c.toml", f'[auth]\ncredentials_file = "{elsewhere}"\n')

    found = found_for({}, config)

    assert found.keys is not None
    assert found.keys.access_key == AK


def test_the_metadata_service_is_a_source_only_when_asked_for():
    with pytest.raises(ConfigError, match="no credentials"):
        found_for({})

    found = found_for({"WAITER_AUTH_SOURCE": "ecs-metadata"})

    assert found.kind == "ecs-metadata"
    assert found.metadata_url == "http://169.254.169.254/openstack/latest/securitykey"
    assert found.keys is None  # fetched by the Waiter, never here


def test_the_profile_file_beats_the_metadata_service(profile: Path):
    write(profile, basic_profile())

    assert found_for({"WAITER_AUTH_SOURCE": "ecs-metadata"}).kind == "access-key"


def test_keys_given_in_code_name_the_settings_field():
    found = find_credentials(Settings(access_key=AK, secret_key=SK))

    assert found.source == "Settings.access_key"


def test_no_credentials_names_every_way_to_give_them():
    with pytest.raises(ConfigError) as excinfo:
        found_for({})

    message = config_error(excinfo)
    for way in ("WAITER_AUTH_TOKEN", "HUAWEICLOUD_SDK_AK", "HW_ACCESS_KEY", "ecs-metadata"):
        assert way in message
    assert ".huaweicloud/credentials" in message


def test_an_unknown_auth_source_is_named():
    with pytest.raises(ConfigError) as excinfo:
        load_settings(env={"WAITER_AUTH_SOURCE": "imds"})

    message = config_error(excinfo)
    assert "WAITER_AUTH_SOURCE in the environment must be one of auto, ecs-metadata" in message


def test_no_variable_of_the_developer_leaks_into_these_tests():
    # conftest clears them; this file relies on it for its "no credentials" cases.
    assert not [name for name in os.environ if name.startswith(("HUAWEICLOUD_", "HW_"))]
    assert not (Path.home() / ".huaweicloud").exists()
