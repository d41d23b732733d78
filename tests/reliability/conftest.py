"""Fixtures the bad-input modules share."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def workdir(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A scratch folder per module (`bad-input-aws-…` for test_bad_input_aws), removed after it."""
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    folder = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
