"""singer-sdk's standard tap tests, run against the local Sustainability fake."""

from __future__ import annotations

import atexit
from datetime import date

from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_aws_carbon.tap import TapAwsCarbon

from tests.aws.conftest import ACCESS_KEY
from tests.conftest import ROOT, TEST_SECRETS
from tests.fakes.aws_data import synthetic_rows, synthetic_water_rows
from tests.fakes.aws_sustainability import SustainabilityFake

# The suite builds its tests from a config at import time, so the fake starts with the module.
_FAKE = SustainabilityFake(
    synthetic_rows(date(2025, 1, 1), 6),
    water_rows=synthetic_water_rows(2025, 1),  # [2025-01, 2025-07) holds 1 January 2025
    page_size_cap=20,
    credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]},
).start()
atexit.register(_FAKE.stop)

TestTapAwsCarbon = get_tap_test_class(
    tap_class=TapAwsCarbon,
    config={
        "sustainability_endpoint_url": _FAKE.url,
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": TEST_SECRETS["aws_secret_access_key"],
        "start_date": "2025-01-01",
        "end_date": "2025-07-01",
        "max_requests_per_second": 0,
        # Every stream is discovered; the export reads the bundled sample. cur_usage_daily has
        # no source here, so the run skips it (tests/aws/test_cur_usage_daily.py covers it).
        "carbon_export_uri": str(ROOT / "sample_data/aws/carbon_export"),
    },
    suite_config=SuiteConfig(ignore_no_records_for_streams=["cur_usage_daily"]),
)
