"""The fake refuses what Azure refuses, so the tap tests passing against it means something."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.azure.conftest import CLIENT_ID, make_fake
from tests.conftest import TEST_SECRETS
from tests.fakes.azure_arm import ARM_SCOPE, AzureFake

REPORTS = "/providers/Microsoft.Carbon/carbonEmissionReports?api-version=2025-04-01"


@pytest.fixture(scope="module")
def arm() -> Iterator[tuple[AzureFake, requests.Session]]:
    with make_fake(3) as fake:
        # requests' env merge replaces session.verify with REQUESTS_CA_BUNDLE: pass it per call.
        session = requests.Session()
        token = session.post(
            f"{fake.url}/{fake.tenant}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": TEST_SECRETS["azure_client_secret"],
                "scope": ARM_SCOPE,
            },
            verify=fake.ca_file,
        ).json()["access_token"]
        session.headers["Authorization"] = f"Bearer {token}"
        yield fake, session


def _item_body(fake: AzureFake, **changes: Any) -> dict[str, Any]:
    body = {
        "reportType": "ItemDetailsReport",
        "dateRange": {"start": "2026-03-01", "end": "2026-03-01"},
        "subscriptionList": fake.subscriptions,
        "carbonScopeList": ["Scope2"],
        "categoryType": "Resource",
        "orderBy": "ItemName",
        "sortDirection": "Asc",
        "pageSize": 5000,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _post(arm, body: dict[str, Any]) -> requests.Response:
    fake, session = arm
    return session.post(f"{fake.url}{REPORTS}", json=body, verify=fake.ca_file)


@pytest.mark.parametrize(
    "changes",
    [
        {"subscriptionList": [f"{i:08d}-0000-4000-8000-000000000000" for i in range(101)]},
        {"dateRange": {"start": "2026-02-01", "end": "2026-03-01"}},  # ItemDetails: one month
        {"dateRange": {"start": "2026-03-02", "end": "2026-03-02"}},  # first of month only
        {"dateRange": {"start": "2024-01-01", "end": "2024-01-01"}},  # outside the data window
        {"pageSize": 5001},
        {"carbonScopeList": []},
        {"categoryType": None},
        {"page_size": 10},  # snake_case keys are not the API's
    ],
)
def test_invalid_report_requests_are_refused_with_an_arm_error(arm, changes):
    answer = _post(arm, _item_body(arm[0], **changes))
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BadRequest"


def test_upper_case_subscription_ids_are_refused(arm):
    fake = arm[0]
    body = _item_body(fake, subscriptionList=[s.upper() for s in fake.subscriptions])
    assert _post(arm, body).status_code == 400


def test_a_skip_token_only_continues_the_request_that_issued_it(arm):
    fake = arm[0]
    fake.item_page_cap = 2
    try:
        first = _post(arm, _item_body(fake)).json()
        assert first["skipToken"]
        other = _item_body(fake, carbonScopeList=["Scope1"], skipToken=first["skipToken"])
        assert _post(arm, other).status_code == 400
    finally:
        fake.item_page_cap = None


def test_scopes_are_summed_when_several_are_listed(arm):
    fake = arm[0]
    totals = {}
    for scopes in (["Scope1"], ["Scope2"], ["Scope1", "Scope2"]):
        value = _post(arm, _item_body(fake, carbonScopeList=scopes, categoryType="Subscription"))
        totals[tuple(scopes)] = sum(v["latestMonthEmissions"] for v in value.json()["value"])
    both = totals[("Scope1",)] + totals[("Scope2",)]
    assert totals[("Scope1", "Scope2")] == pytest.approx(both)


def test_requests_without_a_valid_bearer_token_are_refused(arm):
    fake = arm[0]
    answer = requests.post(f"{fake.url}{REPORTS}", json=_item_body(fake), verify=fake.ca_file)
    assert answer.status_code == 401
    bad = {"Authorization": "Bearer forged"}
    answer = requests.post(
        f"{fake.url}{REPORTS}", json=_item_body(fake), headers=bad, verify=fake.ca_file
    )
    assert answer.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_cost_queries_with_three_groupings_are_refused(arm):
    fake, session = arm
    body = {
        "type": "ActualCost",
        "timeframe": "Custom",
        "timePeriod": {"from": "2026-01-20T00:00:00Z", "to": "2026-01-31T23:59:59Z"},
        "dataset": {
            "granularity": "Daily",
            "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"}},
            "grouping": [
                {"type": "Dimension", "name": n}
                for n in ("ResourceLocation", "ServiceName", "ResourceGroup")
            ],
        },
    }
    url = (
        f"{fake.url}/subscriptions/{fake.subscriptions[0]}/providers/Microsoft.CostManagement/"
        "query?api-version=2025-03-01"
    )
    assert session.post(url, json=body, verify=fake.ca_file).status_code == 400
    body["dataset"]["grouping"].pop()
    answer = session.post(url, json=body, verify=fake.ca_file)
    assert answer.status_code == 200
    assert "x-ms-ratelimit-microsoft.costmanagement-qpu-consumed" in answer.headers
