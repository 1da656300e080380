"""The CI flags: in CI, a PostgreSQL or browser test that skips is a failure, not a silent gap.

``IIZ_REQUIRE_POSTGRES_TESTS=1`` turns the skip of a test marked ``postgres`` into a failure, and
``IIZ_REQUIRE_BROWSER_TESTS=1`` does the same for tests marked ``browser``. This module imports nothing
from Django so that it can be tested in a bare pytest run (see ``test_ci_flags.py``).
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

REQUIRED_BY_MARKER = {
    "postgres": "IIZ_REQUIRE_POSTGRES_TESTS",
    "browser": "IIZ_REQUIRE_BROWSER_TESTS",
}


def flag_set(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    # A skip's longrepr is (path, line, "Skipped: reason").
    return str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    for marker, variable in REQUIRED_BY_MARKER.items():
        if item.get_closest_marker(marker) is not None and flag_set(variable):
            report.outcome = "failed"
            report.longrepr = (
                f"{variable}=1: this test is marked '{marker}' and must run, but it was skipped "
                f"({_skip_reason(report)})."
            )
            return
