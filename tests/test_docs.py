"""The documents a user reads agree with the code: config.example.toml and README's table."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from waiter import Settings
from waiter._config._settings import load_settings
from waiter._config._table import SPECS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"
README = ROOT / "README.md"

CONFIG_SPECS = {spec.key: spec for spec in SPECS if spec.key}
DEFAULTS = Settings()
UNSET_BY_DEFAULT = {
    key for key, spec in CONFIG_SPECS.items() if getattr(DEFAULTS, spec.name) is None
}

# An unset key in the example: a line "# name = value" inside its [section].
_COMMENTED_KEY = re.compile(r"#\s*([a-z_]+)\s*=\s*(.+)")
_SECTION = re.compile(r"\[([a-z_]+)\]")


def example_text() -> str:
    assert EXAMPLE.is_file(), (
        f"{EXAMPLE.name} is missing at the repository root: it must document every config key "
        "with its default (see the Settings section of the contract)"
    )
    return EXAMPLE.read_text(encoding="utf-8")


def readme_text() -> str:
    assert README.is_file(), f"{README.name} is missing at the repository root"
    return README.read_text(encoding="utf-8")


def set_keys(document: dict[str, object]) -> dict[str, object]:
    """``section.key`` -> value for every key the example sets."""
    found: dict[str, object] = {}
    for section, table in document.items():
        assert isinstance(table, dict), f"{EXAMPLE.name}: top-level {section!r} is not a [section]"
        for name, value in table.items():
            found[f"{section}.{name}"] = value
    return found


def commented_keys(text: str) -> dict[str, str]:
    """``section.key`` -> raw TOML value for every ``# key = value`` line inside a section."""
    found: dict[str, str] = {}
    section = None
    for line in text.splitlines():
        stripped = line.strip()
        header = _SECTION.fullmatch(stripped)
        if header:
            section = header.group(1)
            continue
        match = _COMMENTED_KEY.fullmatch(stripped)
        if match and section is not None:
            found[f"{section}.{match.group(1)}"] = match.group(2)
    return found


def test_the_example_config_is_valid_toml():
    text = example_text()
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        pytest.fail(f"{EXAMPLE.name} is not valid TOML: {error}")


def test_the_example_config_has_exactly_the_config_keys():
    text = example_text()
    present = set_keys(tomllib.loads(text))
    commented = {key for key in commented_keys(text) if key not in present}

    assert set(present) == set(CONFIG_SPECS) - UNSET_BY_DEFAULT, (
        f"{EXAMPLE.name} must set every key that has a default, and no other key"
    )
    assert commented == UNSET_BY_DEFAULT, (
        f"{EXAMPLE.name} must show every key without a default as a commented-out "
        "'# name = value' line inside its [section], and no unknown key"
    )


def test_each_value_in_the_example_config_is_the_default():
    present = set_keys(tomllib.loads(example_text()))

    for key, raw in present.items():
        spec = CONFIG_SPECS.get(key)
        assert spec is not None, f"{EXAMPLE.name}: {key} is not a config key"
        assert spec.parse(raw) == getattr(DEFAULTS, spec.name), (
            f"{EXAMPLE.name}: {key} = {raw!r} is not the default {getattr(DEFAULTS, spec.name)!r}"
        )


def test_the_example_config_used_as_is_changes_nothing(tmp_path: Path):
    example_text()  # fails with a clear message when the file is missing
    resolved = load_settings(config_path=EXAMPLE, env={"HOME": str(tmp_path)})

    assert resolved.settings == DEFAULTS
    assert set(resolved.sources) == {
        CONFIG_SPECS[key].name for key in set(CONFIG_SPECS) - UNSET_BY_DEFAULT
    }


def test_uncommenting_the_examples_unset_keys_gives_valid_settings(tmp_path: Path):
    text = example_text()
    uncommented = "\n".join(
        re.sub(r"^#\s*([a-z_]+\s*=)", r"\1", line.strip()) if _commented(line) else line
        for line in text.splitlines()
    )
    config = tmp_path / "config.toml"
    config.write_text(uncommented, encoding="utf-8")

    settings = load_settings(config_path=config, env={"HOME": str(tmp_path)}).settings

    for key in UNSET_BY_DEFAULT:
        assert getattr(settings, CONFIG_SPECS[key].name) is not None, key


def _commented(line: str) -> bool:
    return bool(_COMMENTED_KEY.fullmatch(line.strip()))


def _settings_table_rows(text: str) -> list[str]:
    """The rows of README's settings table: the table whose header has a 'config key' column."""
    rows: list[str] = []
    in_table = False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        if "config key" in line:
            in_table = True
            continue
        if in_table:
            rows.append(line)
    return rows


def test_the_readme_settings_table_has_a_row_for_each_config_key():
    rows = _settings_table_rows(readme_text())
    assert rows, "README.md needs a settings table with a 'config key' column"

    missing = [key for key in CONFIG_SPECS if not any(f"`{key}`" in row for row in rows)]

    assert not missing, (
        f"README.md's settings table has no row naming these config keys in backticks: {missing}"
    )


def test_the_readme_settings_table_names_each_settings_flag_and_variables():
    rows = _settings_table_rows(readme_text())

    for key, spec in CONFIG_SPECS.items():
        row = next((row for row in rows if f"`{key}`" in row), None)
        if row is None:
            continue  # reported by the test above
        if spec.flag:
            assert f"`{spec.flag}" in row, f"README.md's row for {key} should name {spec.flag}"
        for variable in spec.env:
            assert f"`{variable}`" in row, f"README.md's row for {key} should name {variable}"


def test_the_readme_settings_table_names_every_variable():
    # Secrets and settings without a config key too: every variable waiter reads for a setting.
    rows = "\n".join(_settings_table_rows(readme_text()))

    missing = [v for spec in SPECS for v in spec.env if f"`{v}`" not in rows]

    assert not missing, f"README.md's settings table does not name these variables: {missing}"


def test_the_readme_settings_table_gives_each_default_as_the_code_has_it():
    rows = _settings_table_rows(readme_text())

    for key, spec in CONFIG_SPECS.items():
        row = next((row for row in rows if f"`{key}`" in row), None)
        default = spec.shown_default()
        if row is None or default is None:
            continue
        cell = row.rstrip(" |").rsplit(" | ", 1)[1].replace("`", "")
        assert cell.startswith(default), (
            f"README.md's row for {key} gives the default as {cell!r}; the code's is {default!r}"
        )


def test_the_example_config_writes_times_as_durations():
    # A reader learns the duration form from the file: each time with a default is one.
    present = set_keys(tomllib.loads(example_text()))

    for key, spec in CONFIG_SPECS.items():
        if spec.is_duration and spec.default is not None:
            assert isinstance(present[key], str), f"{EXAMPLE.name}: write {key} as a duration"
