"""Fixtures for the whole suite; plain helpers and constants are in ``helpers.py``."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import structlog
from hypothesis import HealthCheck, settings

from waiter import _redact

# Hypothesis times each example and how long it took to make one: both are real seconds, which a
# busy machine stretches past any fixed limit. On CI (CI is set) the examples are the same on
# every run, so a run is red only for a change, never for a draw; locally they vary, to find more.
settings.register_profile(
    "waiter",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("waiter")

# waiter leaves a SIGINT its parent ignored ignored, as every shell tool does, and the tests that
# send it SIGINT start it from this process: a suite started as a background job (`pytest &` in a
# script, nohup) must not pass its own ignored SIGINT down to them. Exec resets a handler to the
# default, where it keeps an ignored signal ignored.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Variables that could make a test read the developer's real config or credentials, or send
# traffic anywhere but 127.0.0.1.
# And the pod's HC_CONTAINER_* and GitHub Actions' ACTIONS_ID_TOKEN_* (set on a runner with
# id-token: write): no test may see the real ones, nor ask GitHub for a token.
_LEAKY_PREFIXES = ("WAITER_", "HW_", "OS_", "HUAWEICLOUD_", "HC_CONTAINER_", "ACTIONS_ID_TOKEN_")
_LEAKY_NAMES = {
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
    "http_proxy", "https_proxy", "all_proxy", "no_proxy",
    "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "REQUEST_METHOD", "XDG_CONFIG_HOME",
}  # fmt: skip


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES) or name in _LEAKY_NAMES:
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    # Secrets learnt by one test (a short test token, say) must not mask another test's text.
    monkeypatch.setattr(_redact, "_known", _redact._Registry())
    # Plain key=value lines: still shown for a failing test, at a fraction of the cost of
    # structlog's default console renderer (the soak test logs ~50,000 events).
    structlog.configure(
        processors=[structlog.processors.KeyValueRenderer(key_order=["event", "task_id"])],
        logger_factory=structlog.PrintLoggerFactory(),
    )
    yield
    structlog.reset_defaults()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty home directory: no config file is found unless a test puts one there."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    """A minimal environment, passed explicitly to load_settings(); os.environ is never touched."""
    return {"HOME": str(home)}


@pytest.fixture
def profile() -> Path:
    """The SDK's default profile file, in the temporary HOME every test gets (not yet written)."""
    return Path.home() / ".huaweicloud" / "credentials"
