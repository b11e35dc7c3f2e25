"""6. --help wall time.

Median of ``python -m waiter --help`` against ``python -c pass``. Target: < 0.1 s. Subprocesses
get a bytecode cache (``PYTHONPYCACHEPREFIX``) as an installed package would have, so this
measures imports, not compiling.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from .common import PYTHON, Plan, run_quietly
from .report import Row, times


def measure(plan: Plan) -> dict[str, Any]:
    commands = {
        "help": [PYTHON, "-m", "waiter", "--help"],
        "baseline": [PYTHON, "-c", "pass"],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():
        run_quietly(argv)  # warm the bytecode cache and the page cache
    for _ in range(plan.help_runs):
        for name, argv in commands.items():  # interleaved, to share any load spell
            started = time.perf_counter()
            run_quietly(argv)
            samples[name].append(time.perf_counter() - started)
    help_s, baseline_s = statistics.median(samples["help"]), statistics.median(samples["baseline"])
    return {
        "runs": plan.help_runs,
        "help_median_s": help_s,
        "baseline_median_s": baseline_s,
        "ratio": help_s / baseline_s,
        "samples": samples,
    }


def rows(help_: dict[str, Any]) -> list[Row]:
    return [
        Row(
            "--help wall time, median",
            f"{help_['help_median_s']:.3f} s",
            f"{help_['baseline_median_s']:.3f} s python -c pass",
            times(help_["ratio"], ".1f"),
            "< 0.1 s",
            help_["help_median_s"] < 0.1,
        )
    ]
