"""The pytest plugin in a user's test suite: the README's example passes exactly as written,
async tests run on a loop of their own, instant waits never leak into the next test, and the
plugin steps aside for tests that are not its own or that another async plugin runs.

Each suite runs in a pytest subprocess (pytester), as a user's would, with the plugin loaded
from its entry point.
"""

from __future__ import annotations

import re
from pathlib import Path

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[2] / "README.md"

# Flags for the users' suites: warnings are errors (a leaked loop or task would show), and no
# cache or hypothesis files in the test's folder.
_QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-W", "error")


def readme_pytest_example() -> str:
    """The first Python block of the README's "Testing your own code" section, verbatim."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Testing your own code\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, "the README's 'Testing your own code' section has no python example"
    return blocks[0]


_NEXT_TEST = """
from waiter._engine._clock import LoopClock, default_clock
from waiter.testing import is_testing


def test_instant_waits_are_off_again():
    assert not is_testing()
    assert isinstance(default_clock(), LoopClock)
"""


def test_the_readmes_pytest_example_passes_as_written_and_leaks_nothing(pytester):
    example = readme_pytest_example()
    assert "set_testing(True)" not in example  # on at module level, it stays on for every test
    # Named so that they run in this order: the README's tests, then the check for a leak.
    pytester.makepyfile(test_a_readme=example, test_b_next=_NEXT_TEST)

    result = pytester.runpytest_subprocess(*_QUIET, "-v")

    result.assert_outcomes(passed=len(re.findall(r"^(?:async )?def test_", example, re.M)) + 1)
    result.stdout.fnmatch_lines(["*test_b_next.py::test_instant_waits_are_off_again PASSED*"])


def test_an_async_test_that_asks_nothing_of_waiter_is_left_to_pytest(pytester):
    pytester.makepyfile(
        test_user="async def test_not_the_plugins():\n    pass\n",
    )

    result = pytester.runpytest_subprocess(*_QUIET)

    # pytest's own answer, as without the plugin: the plugin is opt-in, test by test.
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*async def functions are not natively supported*"])


_MARKED_AND_FRESH_LOOPS = """
import asyncio

import pytest

import waiter
from waiter.testing import fake_kps, is_testing

LEFT = {}


@pytest.mark.waiter
async def test_marked_runs_on_its_loop_without_instant_waits():
    assert not is_testing()
    async with fake_kps({"t1": [(0, "SUCCESS_RESET")]}) as kps:
        [result] = await waiter.wait_for(["t1"], kps.settings())
    assert result.outcome is waiter.Outcome.SUCCESS
    LEFT["loop"] = asyncio.get_running_loop()
    LEFT["task"] = asyncio.create_task(asyncio.sleep(3600))  # left running on purpose


async def test_the_next_gets_a_fresh_loop_and_nothing_left_runs(waiter_testing):
    assert is_testing()
    assert asyncio.get_running_loop() is not LEFT["loop"]
    assert LEFT["loop"].is_closed()
    assert LEFT["task"].cancelled()


async def test_a_failing_async_test_fails_with_the_assertion(fake_kps):
    settings = fake_kps.settings()
    assert settings.endpoint == "nowhere"
"""


def test_async_tests_that_ask_for_the_plugin_run_each_on_a_fresh_loop(pytester):
    pytester.makepyfile(test_user=_MARKED_AND_FRESH_LOOPS)

    result = pytester.runpytest_subprocess(*_QUIET, "--strict-markers")

    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*assert 'http://127.0.0.1:*' == 'nowhere'*"])


# Another async plugin, as anyio's claims a test: first, in pytest_pyfunc_call.
_OTHER_ASYNC_PLUGIN = """
import asyncio
import inspect

import pytest

RAN_BY = []


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        RAN_BY.append(pyfuncitem.name)
        names = pyfuncitem._fixtureinfo.argnames
        asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
        return True
    return None


@pytest.fixture
def ran_by():
    return RAN_BY
"""

_CLAIMED_TESTS = """
from waiter.testing import is_testing


async def test_claimed_by_the_other_plugin(waiter_testing):
    assert is_testing()


def test_it_was_the_other_plugin(ran_by):
    assert ran_by == ["test_claimed_by_the_other_plugin"]
"""


def test_the_plugin_steps_aside_for_another_async_plugin(pytester):
    pytester.makeconftest(_OTHER_ASYNC_PLUGIN)
    pytester.makepyfile(test_user=_CLAIMED_TESTS)

    result = pytester.runpytest_subprocess(*_QUIET)

    result.assert_outcomes(passed=2)


def test_the_marker_is_registered(pytester):
    result = pytester.runpytest_subprocess("--markers")

    result.stdout.fnmatch_lines(["@pytest.mark.waiter: run this async def test on a fresh*"])
