"""The settings table (SPECS): one spec per ``Settings`` field, config keys named by the
contract, secrets without a flag or a repr, and every default surviving its own parser.
"""

from __future__ import annotations

import dataclasses
import re

from helpers import SECRET_NAMES

from waiter import Settings
from waiter._config._table import SPECS

CONFIG_KEYS = {spec.key for spec in SPECS if spec.key}


# Fields whose config key is not "<section>.<field name>" (the contract names them).
RENAMED = {
    "output": "output.format",
    "log_format": "log.format",
    "log_level": "log.level",
    "api": "api.kind",
    # --api http's own auth: section-prefixed, as log_format is, since "auth" alone is ambiguous.
    "api_huawei_auth": "api.huawei_auth",
    "api_auth_header": "api.auth_header",
    "api_auth_file": "api.auth_file",
}


def test_every_settings_field_has_exactly_one_spec():
    field_names = [f.name for f in dataclasses.fields(Settings)]
    spec_names = [spec.name for spec in SPECS]
    assert sorted(spec_names) == sorted(field_names)
    assert len(set(spec_names)) == len(spec_names)


def test_config_keys_are_the_settings_fields_that_have_them():
    with_keys = {spec.name: spec.key for spec in SPECS if spec.key}
    assert len(set(with_keys.values())) == len(with_keys), "two settings share a config key"
    assert set(with_keys.values()) == CONFIG_KEYS
    for name, key in with_keys.items():
        assert key == RENAMED.get(name) or key.split(".")[1] == name, (name, key)
        assert re.fullmatch(r"[a-z]+\.[a-z_]+", key)
    # Only the secrets have no config key: they never go in a file.
    no_key = {f.name for f in dataclasses.fields(Settings)} - set(with_keys)
    assert (
        no_key
        == SECRET_NAMES
        == {"token", "access_key", "secret_key", "security_token", "api_auth", "oidc_id_token"}
        | {"github_token_url", "github_request_token"}  # GitHub Actions' values for the job
    )


def test_secrets_have_no_flag_and_are_kept_out_of_repr():
    repr_fields = {f.name for f in dataclasses.fields(Settings) if f.repr}
    for spec in SPECS:
        if spec.secret:
            assert spec.flag is None, f"{spec.name} must never be a flag"
            assert spec.name not in repr_fields


def test_every_default_survives_its_own_parser():
    defaults = Settings()
    for spec in SPECS:
        default = getattr(defaults, spec.name)
        if default is not None:
            raw = list(default) if isinstance(default, tuple) else default
            assert spec.parse(raw) == default, spec.name


# --- every setting has a variable of its own -----------------------------------------------------

# Where WAITER_ + the key's name would read badly or clash, the section's name joins it (these are
# the README's and --help's names too).
OWN_VARIABLE = {
    "auth.source": "WAITER_AUTH_SOURCE",
    "api.kind": "WAITER_API",
    "api.huawei_auth": "WAITER_API_HUAWEI_AUTH",
    "api.auth_header": "WAITER_API_AUTH_HEADER",
    "api.auth_file": "WAITER_API_AUTH_FILE",
    "output.format": "WAITER_OUTPUT",
    "log.format": "WAITER_LOG_FORMAT",
    "log.level": "WAITER_LOG_LEVEL",
}
# The settings the official SDK reads from its own variables: the SDK's stays first (messages
# name it), waiter's own follows.
SDK_FIRST = {
    "credentials_file", "iam_endpoint", "sts_endpoint", "idp_id", "id_token_file",
    "oidc_provider_urn", "oidc_agency_urn", "oidc_token_file", "oidc_session_name",
    "oidc_duration_seconds", "oidc_policy", "oidc_policy_ids", "pod_credentials_uri",
    "pod_token_file",
}  # fmt: skip


def own_variable(key: str) -> str:
    return OWN_VARIABLE.get(key, "WAITER_" + key.split(".")[1].upper())


def test_every_setting_with_a_config_key_has_its_own_variable():
    for spec in SPECS:
        if spec.key is None:
            continue
        variable = own_variable(spec.key)
        assert variable in spec.env, f"{spec.key} has no {variable}: {spec.env}"
        first = spec.env[-1] if spec.name in SDK_FIRST else spec.env[0]
        assert first == variable, f"{spec.key}: {variable} is not where it belongs in {spec.env}"


def test_no_two_settings_share_a_variable():
    variables = [variable for spec in SPECS for variable in spec.env]
    assert len(variables) == len(set(variables))
    assert "WAITER_CONFIG" not in variables  # the config file's own


def test_secrets_keep_their_variables_and_nothing_else():
    secrets = {spec.name: spec.env for spec in SPECS if spec.secret}
    assert secrets["token"] == ("WAITER_AUTH_TOKEN", "HW_AUTH_TOKEN", "OS_AUTH_TOKEN")
    assert secrets["api_auth"] == ("WAITER_API_AUTH",)
    for spec in SPECS:
        if spec.secret:
            assert spec.key is None
            assert spec.flag is None


# --- one default for each setting ----------------------------------------------------------------


def test_settings_takes_each_default_from_the_table():
    defaults = Settings()
    for field in dataclasses.fields(Settings):
        spec = next(spec for spec in SPECS if spec.name == field.name)
        assert field.default == spec.default == getattr(defaults, field.name), field.name


def test_the_contracts_defaults():
    # What the README and CONTRACT.md promise, written out once more on purpose: a change to a
    # default must be a decision, seen in review, not a slip in the table.
    shown = {spec.name: spec.shown_default() for spec in SPECS}
    assert shown["timeout"] == "30m"
    assert shown["min_interval"] == "2s"
    assert shown["max_interval"] == "20s"
    assert shown["max_in_flight"] == "32"
    assert shown["rate"] == "10"
    assert shown["not_found_grace"] == "30s"
    assert shown["request_timeout"] == "10s"
    assert shown["progress_every"] == "30s"
    assert (shown["bulk"], shown["api"], shown["output"], shown["log_level"]) == (
        "auto", "kps", "auto", "info",
    )  # fmt: skip
    assert shown["fail_fast"] == shown["fail_fast_errors"] == "off"
