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
