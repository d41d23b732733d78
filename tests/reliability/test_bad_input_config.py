"""Bad settings for each tap: one clear line naming the setting, before or instead of any harm.

Mistakes are generated from each tap's own settings schema (a value of another JSON type, a
number outside its range, a value outside its list, an impossible date), plus misspelt setting
names, settings that contradict each other, malformed endpoint URLs and export URIs, and config
files that are not JSON objects. Each run goes through the tap's real CLI in this process (see
`test_bad_input_harness`), against the local fakes so a mistake that slipped through could do no
harm elsewhere. The judge requires the line to name the setting at fault.
"""

from __future__ import annotations

import shutil
import string
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tap_aws_carbon.tap import TapAwsCarbon
from tap_azure_emissions.tap import TapAzureEmissions
from tap_gcp_carbon.tap import TapGcpCarbon

from tests.aws.conftest import ACCESS_KEY
from tests.azure.conftest import make_fake as make_azure
from tests.azure.conftest import tap_config as azure_config
from tests.conftest import TEST_SECRETS
from tests.fakes.aws_data import synthetic_rows
from tests.fakes.aws_sustainability import SustainabilityFake
from tests.gcp.conftest import gcp_config
from tests.gcp.conftest import make_fake as make_bigquery
from tests.reliability.test_bad_input_harness import InProcessTap, Tally, examples

TAPS = {"aws": TapAwsCarbon, "azure": TapAzureEmissions, "gcp": TapGcpCarbon}
# Settings that take a URL or URI, and how each tap spells a wrong one.
ENDPOINTS = {
    "aws": ["sustainability_endpoint_url", "s3_endpoint_url", "sts_endpoint_url"],
    "azure": ["arm_endpoint", "authority_host"],
    "gcp": ["api_endpoint"],
}
BAD_URLS = [
    "not a url",
    "http//127.0.0.1:9",
    "127.0.0.1:8443",
    "https://",
    "ftp://127.0.0.1/",
    "http://[::1",
    "https://exa mple.com",
]
# Each tap's settings that must hold an export root: (setting, wrong values).
URIS = {
    "aws": [
        ("carbon_export_uri", ["s3://", "s3:///prefix", "s3:/bucket/x", "gs://bucket/x"]),
        ("cur_uri", ["s3://", "s3:/bucket/x", "https://bucket.s3.amazonaws.com/x"]),
    ],
    "azure": [],
    "gcp": [("carbon_footprint_uri", ["gs://bucket/carbon", "bq://project.dataset"])],
}
# Settings that contradict each other: (what, changes, setting the error must name).
CONFLICTS = {
    "aws": [
        ("end before start", {"start_date": "2025-06-01", "end_date": "2025-01-01"}, "end_date"),
        ("a key without its secret", {"aws_secret_access_key": None}, "aws_secret_access_key"),
        ("keys and a profile", {"aws_profile": "dev"}, "aws_profile"),
        ("a role that is not an ARN", {"role_arn": "carbon-reader"}, "role_arn"),
    ],
    "azure": [
        ("secret and certificate", {"client_certificate_path": "/tmp/cert.pem"}, "client_secret"),
        ("a secret without tenant", {"tenant_id": None}, "tenant_id"),
        ("a subscription that is not a GUID", {"subscription_ids": ["prod"]}, "subscription_ids"),
        ("a CA bundle that does not exist", {"ca_bundle": "/nonexistent.pem"}, "ca_bundle"),
    ],
    "gcp": [
        ("path and JSON key", {"credentials_path": "/tmp/key.json"}, "credentials_path"),
        ("dataset and files", {"carbon_footprint_uri": "/tmp"}, "carbon_footprint_uri"),
        (
            "nothing to read",
            {"carbon_footprint_dataset": None, "billing_export_table": None},
            "carbon_footprint_dataset",
        ),
        (
            "a table name that escapes SQL",
            {"carbon_footprint_table": "t` --"},
            "carbon_footprint_table",
        ),
    ],
}
IMPOSSIBLE_DATES = [
    "2024-02-30",
    "2023-02-29",
    "2024-13-01",
    "2024-00-10",
    "0000-01-01",
    "24-01-01",
    "2024/01/01",
    "2024-01-01T00:00:00Z",
    "tomorrow",
    "",
]


@dataclass(frozen=True)
class Mistake:
    what: str
    config: dict[str, Any] | str  # the whole config file (text: not JSON)
    setting: str  # what the error line must name


def _wrong_type(kinds: list[str], items: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    """A JSON value of none of `kinds` (null is allowed everywhere: it means unset)."""
    options = []
    if "string" not in kinds:
        options.append(st.text(alphabet=string.ascii_letters, max_size=8))
    if "integer" not in kinds and "number" not in kinds:
        options.append(st.integers(-5, 10**6))
    if "number" not in kinds:
        options.append(st.floats(0.5, 100).filter(lambda x: not x.is_integer()))
    if "boolean" not in kinds:
        options.append(st.booleans())
    if "array" not in kinds:
        options.append(st.lists(st.integers(), max_size=2))
    else:
        wrong_item = "integer" if items and "string" in items.get("type", []) else "string"
        options.append(st.lists(_wrong_type([wrong_item], None), min_size=1, max_size=2))
    options.append(st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), max_size=2))
    return st.one_of(options).filter(lambda v: not _fits(v, kinds, items))


def _fits(value: Any, kinds: list[str], items: dict[str, Any] | None) -> bool:
    if isinstance(value, bool):
        return "boolean" in kinds
    if isinstance(value, int):
        return "integer" in kinds or "number" in kinds
    if isinstance(value, float):
        return "number" in kinds
    if isinstance(value, str):
        return "string" in kinds
    if isinstance(value, list):
        if "array" not in kinds:
            return False
        inner = (items or {}).get("type", [])
        return all(_fits(v, inner, None) for v in value) if inner else True
    return "object" in kinds


@st.composite
def mistakes(draw: st.DrawFn, tap: str, base: dict[str, Any]) -> Mistake:
    schema = TAPS[tap].config_jsonschema["properties"]
    kind = draw(
        st.sampled_from(
            ["type", "type", "range", "enum", "date", "unknown", "conflict", "url", "uri", "file"]
        )
    )
    config = dict(base)
    if kind == "range":
        ranged = sorted(n for n, p in schema.items() if "minimum" in p or "maximum" in p)
        name = draw(st.sampled_from(ranged))
        low, high = schema[name].get("minimum"), schema[name].get("maximum")
        sides = [s for s in (low is not None and "low", high is not None and "high") if s]
        side = draw(st.sampled_from(sides))
        step = draw(st.integers(1, 1000))
        value = low - step if side == "low" else high + step
        config[name] = value
        return Mistake(f"{name} = {value}", config, name)
    if kind == "enum":
        enums = sorted(n for n, p in schema.items() if "enum" in p or "enum" in p.get("items", {}))
        if enums:
            name = draw(st.sampled_from(enums))
            value = draw(st.text(alphabet=string.ascii_letters, min_size=1, max_size=10))
            config[name] = [value] if "items" in schema[name] else value
            return Mistake(f"{name} = {config[name]!r}", config, name)
        kind = "type"
    if kind == "date":
        dated = sorted(n for n, p in schema.items() if p.get("format") == "date")
        name = draw(st.sampled_from(dated))
        config[name] = draw(st.sampled_from(IMPOSSIBLE_DATES))
        return Mistake(f"{name} = {config[name]!r}", config, name)
    if kind == "unknown":
        name = draw(st.sampled_from(sorted(schema)))
        typo = draw(st.sampled_from([name[:-1], name + "s", name.replace("_", "-"), name.upper()]))
        config[typo] = config.get(name, "x")
        return Mistake(f"unknown setting {typo!r}", config, typo)
    if kind == "conflict":
        what, changes, name = draw(st.sampled_from(CONFLICTS[tap]))
        for key, value in changes.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        return Mistake(what, config, name)
    if kind == "url":
        name = draw(st.sampled_from(ENDPOINTS[tap]))
        config[name] = draw(st.sampled_from(BAD_URLS))
        if name == "sts_endpoint_url":
            config["role_arn"] = "arn:aws:iam::123456789012:role/carbon-reader"
        if name == "s3_endpoint_url":
            config["carbon_export_uri"] = "s3://carbon-bucket/export"
        return Mistake(f"{name} = {config[name]!r}", config, name)
    if kind == "uri" and URIS[tap]:
        name, values = draw(st.sampled_from(URIS[tap]))
        config[name] = draw(st.sampled_from(values))
        if name == "carbon_footprint_uri":
            config.pop("carbon_footprint_dataset", None)
        return Mistake(f"{name} = {config[name]!r}", config, name)
    if kind == "file":
        text = draw(
            st.sampled_from(["", "{", "[]", "null", '"start_date: 2024-01-01"', "{'a': 1}"])
        )
        return Mistake(f"a config file holding {text!r}", text, "config")
    name = draw(st.sampled_from(sorted(schema)))
    prop = schema[name]
    config[name] = draw(_wrong_type(list(prop.get("type", [])), prop.get("items")))
    return Mistake(f"{name} = {config[name]!r:.40}", config, name)


@dataclass
class Bases:
    configs: dict[str, dict[str, Any]]  # a working config per tap, pointing at its local fake
    workdir: Path


@pytest.fixture(scope="module")
def bases() -> Iterator[Bases]:
    folder = Path(tempfile.mkdtemp(prefix="bad-config-"))
    aws = SustainabilityFake(
        synthetic_rows(date(2024, 1, 1), 1, accounts=["012345678901"]),
        credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]},
    ).start()
    azure = make_azure(1).start_tls()
    bigquery, key = make_bigquery()
    try:
        configs = {
            "aws": {
                "sustainability_endpoint_url": aws.url,
                "aws_access_key_id": ACCESS_KEY,
                "aws_secret_access_key": TEST_SECRETS["aws_secret_access_key"],
                "start_date": "2024-01-01",
                "end_date": "2024-02-01",
                "max_requests_per_second": 0,
                "max_attempts": 1,
            },
            "azure": azure_config(
                azure, start_month="2026-03-01", max_attempts=1, carbon_scopes=["Scope1"]
            ),
            "gcp": gcp_config(bigquery, key, billing_export_table=None, max_attempts=1),
        }
        yield Bases(configs, folder)
    finally:
        aws.stop()
        azure.stop()
        bigquery.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("tap", sorted(TAPS))
def test_bad_settings_fail_in_one_line_naming_the_setting(tap, bases):
    runner = InProcessTap(TAPS[tap], bases.workdir)
    base = bases.configs[tap]
    clean = runner.run(base)
    assert clean.returncode == 0, clean.stderr[-3000:]
    cases = examples(35, 100)
    tally = Tally(tap, planned=cases["max_examples"])

    @settings(**cases)
    @given(mistakes(tap, base))
    def case(mistake: Mistake) -> None:
        run = runner.run(mistake.config)
        tally.check_failure(f"{tap}: {mistake.what}", run, [mistake.setting])

    case()
    tally.finish()
