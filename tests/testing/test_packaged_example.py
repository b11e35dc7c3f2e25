"""The example scenario that ``python -m waiter.testing --help`` points to ships in the wheel,
and ``--example`` prints it: a pip install has no repository folder to look in.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from waiter.testing._command import example_scenario
from waiter.testing._scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
PACKAGED = "waiter/testing/scenario.example.toml"


def _testing_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "waiter.testing", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_wheel_ships_the_example_scenario(tmp_path):
    # The build backend itself (in the test extra), no network: under a second.
    built = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stderr

    [wheel] = tmp_path.glob("task_waiter-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read(PACKAGED).decode("utf-8")
        names = archive.namelist()
    assert shipped == (ROOT / PACKAGED).read_text(encoding="utf-8")
    assert "waiter/py.typed" in names
    assert not [name for name in names if name.startswith("examples/")]


def test_example_prints_the_packaged_scenario_and_it_serves_as_it_is(tmp_path):
    printed = _testing_command("--example")

    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == example_scenario() == (ROOT / PACKAGED).read_text(encoding="utf-8")
    saved = tmp_path / "scenario.toml"
    saved.write_text(printed.stdout, encoding="utf-8")
    scenario = load_scenario(saved)
    assert scenario.tasks[0].task_id == "aee8d2fe-5484-4753-9177-5a38dc15546c"


def test_help_points_to_what_ships():
    shown = _testing_command("--help")

    assert shown.returncode == 0
    assert "python -m waiter.testing --example" in shown.stdout
    assert "examples/" not in shown.stdout
