"""``--show-config``: the settings as TOML, each value with its source, the credentials in use
named, and no secret shown (nor in ``Settings``' repr).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest
from helpers import (
    AK,
    HW_PAIR,
    METADATA,
    OTHER_SK,
    SDK_PAIR,
    SECRET_NAMES,
    SK,
    ST,
    TOKEN,
    basic_profile,
    run_main,
    write,
)

from waiter import Settings
from waiter._cli._show_config import render_toml
from waiter._config._settings import load_settings
from waiter._config._table import SPECS


def _sections(text: str) -> dict[str, list[str]]:
    """The lines of each [section] of a rendered file."""
    lines: dict[str, list[str]] = {}
    section = ""
    for line in text.splitlines():
        header = re.fullmatch(r"\[(\w+)\]", line.strip())
        if header:
            section = header.group(1)
        else:
            lines.setdefault(section, []).append(line)
    return lines


SET_LINE = re.compile(r"\w+ = .+  # (default|config file .+|environment \w+|flag --[\w-]+)")


@pytest.fixture
def rich(tmp_path: Path, env: dict[str, str]):
    """Settings from every level, with every kind of secret in the environment."""
    token_file = write(tmp_path / "token", "tok")
    config = write(
        tmp_path / "c.toml",
        '[kps]\nregion = "cn-north-4"\n'
        "[poll]\ntimeout = 600\nrate = 2.5\nfail_fast = true\n"
        f'[tls]\nca_bundle = "{tmp_path / "ca.pem"}"\n'
        '[status]\npending = ["QUEUED", "RUNNING_*"]\n'
        '[log]\nlevel = "debug"\n',
    )
    env.update(
        {
            "WAITER_PROJECT_ID": "0123456789abcdef",
            "WAITER_AUTH_TOKEN": "tok-secret-1a2b3c",
            "HUAWEICLOUD_SDK_AK": "ak-secret-4d5e6f",
            "HUAWEICLOUD_SDK_SK": "sk-secret-7a8b9c",
            # One family: a security token from HW_* would not belong to this pair.
            "HUAWEICLOUD_SDK_SECURITY_TOKEN": "st-secret-0d1e2f",
        }
    )
    flags = {"max_interval": "45", "output": "text", "token_file": str(token_file)}
    return load_settings(flags=flags, config_path=config, env=env)


def test_show_config_is_valid_toml_with_every_key(env: dict[str, str]):
    resolved = load_settings(env=env)
    text = render_toml(resolved)

    document = tomllib.loads(text)
    sections = _sections(text)
    for spec in SPECS:
        if spec.key is None:
            continue
        table, key = spec.key.split(".")
        value = getattr(resolved.settings, spec.name)
        if value is None:
            assert table not in document or key not in document[table]
            assert any(line.startswith(f"# {key} ") for line in sections[table]), spec.key
        else:
            assert key in document[table], spec.key


def test_show_config_names_the_source_of_each_value(rich):
    text = render_toml(rich)
    sections = _sections(text)

    assert f"# config file: {rich.config_file}" in text
    assert f'timeout = "10m"  # config file {rich.config_file}' in sections["poll"]
    assert 'max_interval = "45s"  # flag --max-interval' in sections["poll"]
    assert 'min_interval = "2s"  # default' in sections["poll"]
    assert "rate = 2.5" in text
    assert 'project_id = "0123456789abcdef"  # environment WAITER_PROJECT_ID' in sections["kps"]
    assert 'format = "text"  # flag --output' in sections["output"]
    assert 'pending = ["QUEUED", "RUNNING_*"]' in "\n".join(sections["status"])
    # every set key is "key = value  # source"
    for lines in sections.values():
        for line in lines:
            if line and not line.startswith("#"):
                assert SET_LINE.fullmatch(line), line


def test_show_config_never_shows_a_secret(rich):
    text = render_toml(rich)

    for secret in ("tok-secret", "1a2b3c", "ak-secret", "sk-secret", "st-secret"):
        assert secret not in text
    # the token file beat the token, so the token is gone; the other secrets are shown as ***
    for name in ("access_key", "secret_key", "security_token"):
        assert f'# {name} = "***"' in text
    assert "token_file = " in text  # a path, not a secret


def test_show_config_shows_a_token_from_the_environment_as_stars(env: dict[str, str]):
    env["OS_AUTH_TOKEN"] = "tok-secret-9f8e7d"
    text = render_toml(load_settings(env=env))

    assert "tok-secret" not in text
    assert '# token = "***"  # environment OS_AUTH_TOKEN' in text


def test_show_config_output_read_back_as_a_config_file_gives_the_same_settings(
    tmp_path: Path, home: Path, rich
):
    saved = write(tmp_path / "saved.toml", render_toml(rich))

    again = load_settings(config_path=saved, env={"HOME": str(home)}).settings

    # Everything but the secrets, which are never written out.
    no_secrets = dict.fromkeys(SECRET_NAMES)
    assert again == dataclasses.replace(rich.settings, **no_secrets)
    assert again != Settings()


def test_settings_repr_never_shows_a_secret(rich):
    everything = Settings(
        token="tok-secret-1", access_key="ak-secret-2", secret_key="sk-secret-3",
        security_token="st-secret-4",
    )  # fmt: skip
    for settings in (rich.settings, everything):
        shown = repr(settings) + str(settings)
        assert "secret" not in shown
        assert "tok-secret" not in shown
    assert "Settings(" in repr(everything)


# --- the credentials in use -------------------------------------------------------------------


def credentials_line(text: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith("# credentials: ")]
    return line


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (SDK_PAIR, "access key from environment HUAWEICLOUD_SDK_AK (signed requests)"),
        (
            {**HW_PAIR, "HW_SECURITY_TOKEN": ST},
            "temporary access key from environment HW_ACCESS_KEY (signed requests)",
        ),
        ({"WAITER_AUTH_TOKEN": TOKEN, **SDK_PAIR}, "IAM token from environment WAITER_AUTH_TOKEN"),
        (
            METADATA,
            "temporary access key from the ECS metadata service at "
            "http://169.254.169.254/openstack/latest/securitykey, fetched at start",
        ),
    ],
    ids=["sdk pair", "hw temporary", "token", "metadata"],
)
def test_show_config_names_the_credentials_in_use_and_no_secret(env: dict[str, str], says: str):
    code, stdout, stderr = run_main(["--show-config"], env)

    assert (code, stderr) == (0, "")
    tomllib.loads(stdout)
    assert says in credentials_line(stdout)
    for secret in (SK, OTHER_SK, ST, TOKEN):
        assert secret not in stdout


def test_show_config_names_the_profile_file_and_its_project_id(profile: Path):
    write(profile, basic_profile(security_token=ST, project_id="fromthefile01"))

    code, stdout, _ = run_main(["--show-config"], {})

    assert code == 0
    assert credentials_line(stdout) == (
        f"# credentials: temporary access key from profile file {profile} (signed requests); "
        "project ID fromthefile01 from it"
    )
    assert SK not in stdout
    assert ST not in stdout


def test_show_config_shows_a_broken_profile_file_without_failing(profile: Path):
    write(profile, f"ak = {AK}\nsk = {SK}\n", mode=0o644)

    code, stdout, stderr = run_main(["--show-config"], {})

    assert (code, stderr) == (0, "")
    line = credentials_line(stdout)
    assert line.startswith(f"# credentials: none usable: credentials file {profile} is not an INI")
    assert SK not in stdout  # nor any warning line on stdout, where the TOML goes


def test_show_config_lists_the_new_auth_keys_with_their_sources(tmp_path: Path):
    config = write(tmp_path / "c.toml", '[auth]\nsource = "ecs-metadata"\n')

    code, stdout, _ = run_main(["--show-config", "--config", str(config)], {})

    assert code == 0
    auth = tomllib.loads(stdout)["auth"]
    assert auth["source"] == "ecs-metadata"
    assert auth["metadata_url"] == "http://169.254.169.254/openstack/latest/securitykey"
    assert f'source = "ecs-metadata"  # config file {config}' in stdout


def test_show_config_names_the_profile_file_when_it_beats_the_metadata_service(profile: Path):
    write(profile, basic_profile())

    text = render_toml(load_settings(env=dict(METADATA)))

    assert f"# credentials: access key from profile file {profile}" in text


def _line(text: str, key: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith(f"# {key} is not set:")]
    return line


def _set_line(text: str, key: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith(f"{key} = ")]
    return line


@pytest.mark.parametrize(
    ("region", "endpoint", "iam", "sts"),
    [
        (
            "cn-north-4",
            "https://kms.cn-north-4.myhuaweicloud.com (the SDK's region table, cn-north-4)",
            "https://iam.cn-north-4.myhuaweicloud.com (the SDK's region table, cn-north-4)",
            "https://sts.cn-north-4.myhuaweicloud.com (the SDK's region table, cn-north-4)",
        ),
        (
            "xx-moon-1",
            "https://kms.xx-moon-1.myhuaweicloud.com (the usual template: xx-moon-1 is not in "
            "the SDK's table)",
            "https://iam.myhuaweicloud.com (the SDK's global endpoint: xx-moon-1 is not in the "
            "SDK's table)",
            "https://sts.cn-north-4.myhuaweicloud.com (the SDK's default endpoint: xx-moon-1 is "
            "not in the SDK's table)",
        ),
    ],
)
def test_show_config_prints_the_endpoints_the_region_resolves_to_and_from_where(
    region: str, endpoint: str, iam: str, sts: str
):
    text = render_toml(load_settings(env={"WAITER_REGION": region, "WAITER_AUTH_TOKEN": TOKEN}))

    assert f"is not set: {endpoint};" in _line(text, "endpoint")
    assert f"is not set: {iam};" in _line(text, "iam_endpoint")
    assert f"is not set: {sts};" in _line(text, "sts_endpoint")
    tomllib.loads(text)  # still TOML


def test_show_config_prints_the_profile_files_iam_endpoint_first():
    write(  # the SDK's default profile, in the test's own home folder
        Path.home() / ".huaweicloud" / "credentials",
        basic_profile() + "iam_endpoint = https://iam.profile.example\n",
    )
    env = {"WAITER_REGION": "cn-north-4"}

    text = render_toml(load_settings(env=env))

    assert "is not set: https://iam.profile.example (the profile file's iam_endpoint);" in (
        _line(text, "iam_endpoint")
    )


def test_show_config_prints_the_sdks_endpoint_list_as_its_first_and_names_the_rest():
    variable = "HUAWEICLOUD_SDK_REGION_KPS_CN_NORTH_4"
    env = {"WAITER_REGION": "cn-north-4", variable: "a.example,https://b.example"}

    text = render_toml(load_settings(env=env))

    line = _set_line(text, "endpoint")
    assert line.startswith('endpoint = "https://a.example"  # environment ' + variable)
    assert "then https://b.example, tried in turn when unreachable" in line
    assert tomllib.loads(text)["kps"]["endpoint"] == "https://a.example"


def test_show_config_prints_the_regions_files_endpoint_with_the_file(tmp_path: Path):
    regions = write(
        tmp_path / "regions.yaml", "KPS:\n  - id: cn-north-4\n    endpoint: https://r.example\n"
    )
    env = {"WAITER_REGION": "cn-north-4", "HUAWEICLOUD_SDK_REGIONS_FILE": str(regions)}

    text = render_toml(load_settings(env=env))

    assert (
        _set_line(text, "endpoint") == f'endpoint = "https://r.example"  # regions file {regions}'
    )


def test_show_config_prints_the_profile_files_iam_endpoint_over_the_variable():
    write(
        Path.home() / ".huaweicloud" / "credentials",
        basic_profile() + "iam_endpoint = https://iam.profile.example\n",
    )
    env = {"WAITER_REGION": "cn-north-4", "HUAWEICLOUD_SDK_IAM_ENDPOINT": "https://iam.env.example"}

    text = render_toml(load_settings(env=env))

    assert _set_line(text, "iam_endpoint") == (
        'iam_endpoint = "https://iam.profile.example"  # the profile file\'s iam_endpoint, '
        "which beats environment HUAWEICLOUD_SDK_IAM_ENDPOINT"
    )


# --- what it prints reads back ------------------------------------------------------------------


def _as_config_file(text: str, tmp_path: Path) -> Path:
    return write(tmp_path / "shown.toml", text)


def test_show_config_prints_times_as_durations_that_read_back(tmp_path: Path, env: dict[str, str]):
    env |= {"WAITER_TIMEOUT": "1h30m", "WAITER_NOT_FOUND_GRACE": "0", "WAITER_FAIL_FAST": "yes"}
    flags = {"min_interval": "500ms", "max_interval": "90.25", "progress_every": "2m"}
    loaded = load_settings(flags=flags, env=env)

    text = render_toml(loaded)
    poll = _sections(text)["poll"]

    assert 'timeout = "1h30m"  # environment WAITER_TIMEOUT' in poll
    assert 'min_interval = "0.5s"  # flag --min-interval' in poll
    assert 'max_interval = "90.25s"  # flag --max-interval' in poll
    assert 'not_found_grace = "0s"  # environment WAITER_NOT_FOUND_GRACE' in poll
    assert 'request_timeout = "10s"  # default' in poll
    assert "fail_fast = true  # environment WAITER_FAIL_FAST" in poll
    assert 'progress_every = "2m"  # flag --progress-every' in _sections(text)["output"]
    again = load_settings(config_path=_as_config_file(text, tmp_path), env={"HOME": env["HOME"]})
    assert again.settings == loaded.settings


def test_what_show_config_prints_is_a_config_file_for_the_same_settings(
    rich, tmp_path: Path, home: Path
):
    # Everything but the secrets (never printed) comes back as it was, from the file alone.
    text = render_toml(rich)

    again = load_settings(config_path=_as_config_file(text, tmp_path), env={"HOME": str(home)})

    secrets = dict.fromkeys(SECRET_NAMES)
    assert dataclasses.replace(again.settings, **secrets) == dataclasses.replace(
        rich.settings, **secrets
    )
    assert set(again.sources.values()) == {f"config file {tmp_path / 'shown.toml'}"}


def test_show_config_on_the_command_line_prints_durations(env: dict[str, str]):
    code, stdout, stderr = run_main(["--show-config", "--timeout", "10m"], env)

    assert (code, stderr) == (0, "")
    assert 'timeout = "10m"  # flag --timeout' in stdout
    tomllib.loads(stdout)
