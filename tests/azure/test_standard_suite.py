"""singer-sdk's standard tap tests, run in-process against the local ARM fake."""

from __future__ import annotations

import atexit
from datetime import date, timedelta

from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_azure_emissions.periods import today
from tap_azure_emissions.tap import TapAzureEmissions

from tests.azure.conftest import make_fake, tap_config
from tests.fakes.azure_data import synthetic_cost_rows

# The suite builds its tests from a config at import time, so the fake starts with the module.
_FAKE = make_fake(2, window=(date(2026, 1, 1), date(2026, 3, 1)), item_page_cap=5).start_tls()
# Cost rows in the last days only, so each of the suite's many syncs makes one cost query.
_COST_FIRST = today() - timedelta(days=4)
_FAKE.cost_rows = synthetic_cost_rows(_FAKE.subscriptions, _COST_FIRST, 5)
atexit.register(_FAKE.stop)

TestTapAzureEmissions = get_tap_test_class(
    tap_class=TapAzureEmissions,
    # usage_quantities on: the suite covers every stream, usage_daily included.
    config=tap_config(_FAKE, cost_start_date=_COST_FIRST.isoformat(), usage_quantities=True),
    suite_config=SuiteConfig(ignore_no_records=False),
)
