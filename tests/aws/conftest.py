from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.conftest import TEST_SECRETS
from tests.fakes.aws_data import synthetic_rows
from tests.fakes.aws_sustainability import SustainabilityFake

ACCESS_KEY = "AKIDTAPTEST000000001"


@pytest.fixture
def fake():
    """A Sustainability fake with 24 months of data, tiny pages and signature checking."""
    with SustainabilityFake(
        synthetic_rows(date(2024, 1, 1), 24),
        page_size_cap=25,
        credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]},
    ) as server:
        yield server


def tap_config(fake: SustainabilityFake, **overrides: Any) -> dict[str, Any]:
    config = {
        "sustainability_endpoint_url": fake.url,
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": TEST_SECRETS["aws_secret_access_key"],
        "start_date": "2024-01-01",
        "end_date": "2026-01-01",
        "max_requests_per_second": 0,
    }
    config.update(overrides)
    return config
