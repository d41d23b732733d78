"""singer-sdk's standard tap tests, run against the local BigQuery fake."""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_gcp_carbon.tap import TapGcpCarbon

from tests.gcp.conftest import gcp_config, make_fake

# The suite builds its tests from a config at import time, so the fake starts with the module.
_FAKE, _KEY = make_fake(page_rows=500)
atexit.register(_FAKE.stop)

TestTapGcpCarbon = get_tap_test_class(
    tap_class=TapGcpCarbon,
    config=gcp_config(_FAKE, _KEY, start_month="2024-06-01"),
    suite_config=SuiteConfig(ignore_no_records=False),
)
