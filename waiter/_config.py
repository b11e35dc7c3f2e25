"""Where settings come from: defaults < config file < environment < flags, with provenance.

``resolve`` layers the sources and remembers, for each setting, which one won, so that
``--show-config`` can say it and an error can point at the place to fix.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ._errors import ConfigError
from ._settings import SPECS, SPECS_BY_NAME, Settings, Spec

__all__ = ["Resolved", "find_config_file", "render_toml", "resolve"]

_BY_KEY = {spec.key: spec for spec in SPECS if spec.key}


@dataclass(frozen=True)
class Resolved:
    """The settings, and for each setting the place its value came from."""

    settings: Settings
    sources: Mapping[str, str]
    config_file: Path | None


def find_config_file(config_path: str | Path | None, env: Mapping[str, str]) -> Path | None:
    """``--config``, else ``$WAITER_CONFIG``, else the XDG file if it exists."""
    if config_path is not None:
        return _existing(Path(config_path).expanduser(), "--config")
    if env.get("WAITER_CONFIG"):
        return _existing(Path(env["WAITER_CONFIG"]).expanduser(), "WAITER_CONFIG")
    xdg = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")) / ".config")
    default = Path(xdg).expanduser() / "waiter" / "config.toml"
    return default if default.is_file() else None


def _existing(path: Path, given_by: str) -> Path:
    if not path.is_file():
        problem = "is not a file" if path.exists() else "does not exist"
        raise ConfigError(f"config file {path} (given by {given_by}) {problem}; fix the path")
    return path


def read_config_file(path: Path) -> dict[str, object]:
    """The file's raw values by setting name; unknown keys and non-TOML are errors."""
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        # TOML is UTF-8: a file in another encoding (or a binary file) is not TOML either.
        reason = error if isinstance(error, tomllib.TOMLDecodeError) else "not UTF-8 text"
        raise ConfigError(
            f"config file {path} is not valid TOML ({reason}); fix it or point --config elsewhere"
        ) from None
    except OSError as error:
        raise ConfigError(f"config file {path} cannot be read: {error.strerror}") from None
    values: dict[str, object] = {}
    sections = {key.split(".")[0] for key in _BY_KEY}
    for section, table in document.items():
        if not isinstance(table, dict):
            raise _unknown_key(section, path)
        if not table and section not in sections:
            raise _unknown_key(f"[{section}]", path)
        for name, raw in table.items():
            spec = _BY_KEY.get(f"{section}.{name}")
            if spec is None:
                raise _unknown_key(f"{section}.{name}", path)
            values[spec.name] = raw
    return values


def _unknown_key(key: str, path: Path) -> ConfigError:
    close = difflib.get_close_matches(key, list(_BY_KEY), n=1)
    hint = f"did you mean {close[0]}?" if close else "config.example.toml lists every key"
    return ConfigError(f"unknown config key {key!r} in {path}; {hint}")


def _parse(spec: Spec, raw: object, origin: str) -> object:
    try:
        return spec.parse(raw)
    except ValueError as error:
        # A secret's value is never echoed, not even when it is malformed.
        shown = "***" if spec.secret else repr(raw)
        raise ConfigError(
            f"{origin}: {spec.label} must be {error}, got {shown}", setting=spec.name
        ) from None


def resolve(
    *,
    flags: Mapping[str, object] | None = None,
    config_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Resolved:
    """Layer defaults, config file, environment and flags into checked :class:`Settings`.

    ``flags`` maps setting names to raw flag values (only the flags that were given).
    """
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    sources: dict[str, str] = {}

    config_file = find_config_file(config_path, env)
    if config_file is not None:
        for name, raw in read_config_file(config_file).items():
            spec = SPECS_BY_NAME[name]
            values[name] = _parse(spec, raw, f"config file {config_file}")
            sources[name] = f"config file {config_file}"

    for spec in SPECS:
        for variable in spec.env:
            raw = env.get(variable, "")
            if raw.strip():
                values[spec.name] = _parse(spec, raw, f"environment {variable}")
                sources[spec.name] = f"environment {variable}"
                break

    for name, raw in (flags or {}).items():
        spec = SPECS_BY_NAME[name]
        values[name] = _parse(spec, raw, f"flag {spec.flag}")
        sources[name] = f"flag {spec.flag}"

    _one_token_source(values, sources)
    try:
        settings = Settings(**values)  # type: ignore[arg-type]
    except ConfigError as error:
        source = sources.get(error.setting or "")
        if source:
            raise ConfigError(
                f"{error} (the value came from {source})", setting=error.setting
            ) from None
        raise
    return Resolved(settings, sources, config_file)


def _one_token_source(values: dict[str, object], sources: dict[str, str]) -> None:
    """A token file and a token value are one setting: the higher layer wins outright.

    ``--token-file`` beats a token in the environment, which beats ``auth.token_file``.
    """
    if "token" not in values or "token_file" not in values:
        return
    loser = "token" if sources["token_file"].startswith("flag") else "token_file"
    del values[loser], sources[loser]


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(str(value))


def render_toml(resolved: Resolved) -> str:
    """The effective settings as TOML, each with where it came from; secrets as ``"***"``."""
    lines = ["# effective waiter settings"]
    if resolved.config_file:
        lines.append(f"# config file: {resolved.config_file}")
    section = None
    for spec in SPECS:
        if spec.key is None:
            continue
        table, key = spec.key.split(".")
        if table != section:
            section = table
            lines += ["", f"[{table}]"]
        value = getattr(resolved.settings, spec.name)
        if value is None:
            lines.append(f"# {key} is not set: {spec.help}; {spec.how_to_set()}")
        else:
            source = resolved.sources.get(spec.name, "default")
            lines.append(f"{key} = {_toml_value(value)}  # {source}")
    lines += ["", "# credentials (never shown)"]
    for spec in SPECS:
        if spec.secret and getattr(resolved.settings, spec.name) is not None:
            source = resolved.sources.get(spec.name, "code")
            lines.append(f'# {spec.name} = "***"  # {source}')
    return "\n".join(lines) + "\n"
