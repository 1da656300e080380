"""The CI flags turn a skipped PostgreSQL or browser test into a failure (see ``tests/ci_flags.py``).

Each case runs a small pytest session in a subprocess, with the flags' hook as its conftest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import tests.ci_flags

SKIPPING_TESTS = '''
import pytest

@pytest.mark.browser
def test_browser():
    pytest.skip("no Chromium here")

@pytest.mark.postgres
def test_postgres():
    pytest.skip("no PostgreSQL here")

@pytest.mark.postgres
@pytest.mark.xfail(reason="expected", strict=True)
def test_expected_failure():
    assert False

def test_unmarked():
    pytest.skip("skipped for another reason")
'''
INI = """[pytest]
markers =
    browser: browser
    postgres: postgres
"""


def run_session(tmp_path: Path, **flags: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(Path(tests.ci_flags.__file__).read_text())
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "test_sample.py").write_text(SKIPPING_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IIZ_REQUIRE_", "DJANGO_", "PYTEST_"))}
    # A bare pytest: none of the installed plugins (Django, xdist, hypothesis, …) is needed here.
    env.update(flags, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_it_lets_marked_tests_skip_without_the_flags(tmp_path):
    # given / when
    result = run_session(tmp_path)

    # then
    assert result.returncode == 0, result.stdout
    assert "3 skipped, 1 xfailed" in result.stdout


@pytest.mark.parametrize(("flag", "failing"), [("IIZ_REQUIRE_BROWSER_TESTS", "browser"),
                                               ("IIZ_REQUIRE_POSTGRES_TESTS", "postgres")])
def test_it_fails_a_skipped_test_of_the_required_kind(tmp_path, flag, failing):
    # given / when
    result = run_session(tmp_path, **{flag: "1"})

    # then only the required kind fails, with a message naming the flag; other skips and xfails stay
    assert result.returncode == 1, result.stdout
    assert f"FAILED test_sample.py::test_{failing}" in result.stdout
    assert f"{flag}=1: this test is marked '{failing}' and must run" in result.stdout
    assert "1 failed, 2 skipped, 1 xfailed" in result.stdout


def test_it_fails_both_kinds_when_both_flags_are_set(tmp_path):
    # given / when
    result = run_session(tmp_path, IIZ_REQUIRE_BROWSER_TESTS="1", IIZ_REQUIRE_POSTGRES_TESTS="1")

    # then
    assert "2 failed, 1 skipped, 1 xfailed" in result.stdout
