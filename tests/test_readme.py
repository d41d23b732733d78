"""The README's generated parts stay in step with the code."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_readme_settings_tables_match_about_output():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/render_settings.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci/run").read_text()
    assert "bash scripts/test.sh" in readme and "bash scripts/test.sh" in ci
