"""The keyless sources read variables the suite's own conftest does not clear: the pod's
``HC_CONTAINER_*`` and GitHub Actions' ``ACTIONS_ID_TOKEN_*`` (set on a runner with
``id-token: write``). A test must never see the real ones, nor ask GitHub for a token."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def no_pod_or_github_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("HC_CONTAINER_", "ACTIONS_ID_TOKEN_")):
            monkeypatch.delenv(name)
