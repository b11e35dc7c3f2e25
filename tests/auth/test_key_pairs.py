"""Access key pairs come whole, from one family of variables (``HUAWEICLOUD_SDK_*`` or
Terraform's ``HW_*``) or from code: half a pair or a mixed one is refused, naming the
variables and never the secret.
"""

from __future__ import annotations

import pytest
from helpers import AK, SDK_PAIR, SK, ST, TOKEN, config_error

from waiter import ConfigError, Settings
from waiter._config._settings import load_settings


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"HUAWEICLOUD_SDK_AK": AK},
            "HUAWEICLOUD_SDK_AK is set but HUAWEICLOUD_SDK_SK is not",
        ),
        ({"HUAWEICLOUD_SDK_SK": SK}, "HUAWEICLOUD_SDK_SK is set but HUAWEICLOUD_SDK_AK is not"),
        ({"HW_ACCESS_KEY": AK}, "HW_ACCESS_KEY is set but HW_SECRET_KEY is not"),
        ({"HW_SECRET_KEY": SK}, "HW_SECRET_KEY is set but HW_ACCESS_KEY is not"),
    ],
    ids=["sdk AK alone", "sdk SK alone", "hw AK alone", "hw SK alone"],
)
def test_half_a_pair_is_refused_naming_both_variables(env: dict[str, str], says: str):
    env = {**env, "WAITER_AUTH_TOKEN": TOKEN}  # even a token does not hide the mistake

    with pytest.raises(ConfigError) as excinfo:
        load_settings(env=env)

    message = config_error(excinfo)
    assert says in message
    assert SK not in message


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"HUAWEICLOUD_SDK_AK": AK, "HW_SECRET_KEY": SK},
            "HW_SECRET_KEY is set, but a pair comes from one family",
        ),
        (
            {"HW_ACCESS_KEY": AK, "HUAWEICLOUD_SDK_SK": SK},
            "HW_ACCESS_KEY is set, but a pair comes from one family",
        ),
        (
            {**SDK_PAIR, "HW_SECURITY_TOKEN": ST},
            "HW_SECURITY_TOKEN is set, but the key pair comes from HUAWEICLOUD_SDK_AK",
        ),
        ({"HW_SECURITY_TOKEN": ST}, "HW_SECURITY_TOKEN is set without HW_ACCESS_KEY"),
    ],
    ids=["sdk AK + hw SK", "hw AK + sdk SK", "hw token with sdk pair", "lone token"],
)
def test_families_are_never_mixed(env: dict[str, str], says: str):
    with pytest.raises(ConfigError) as excinfo:
        load_settings(env=env)

    message = config_error(excinfo)
    assert says in message
    assert SK not in message
    assert ST not in message


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"access_key": AK}, "access_key is given but secret_key is not"),
        ({"secret_key": SK}, "secret_key is given but access_key is not"),
        ({"security_token": ST}, "security_token is given without access_key"),
    ],
)
def test_half_a_pair_given_in_code_is_refused(fields: dict[str, str], says: str):
    with pytest.raises(ConfigError) as excinfo:
        Settings(**fields)

    message = config_error(excinfo)
    assert says in message
    assert SK not in message
    assert ST not in message
