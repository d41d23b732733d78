"""Stream `cur_usage_daily`: Cost and Usage Report line items summed per day and usage dimension."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from carbon_taps_shared.services import ServiceStream
from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_aws_carbon.cur_engine import CurFile, DailyAggregator, file_columns
from tap_aws_carbon.cur_layout import Delivery, plan_deliveries
from tap_aws_carbon.export_layout import file_format
from tap_aws_carbon.services import AwsServices

if TYPE_CHECKING:
    from tap_aws_carbon.sources import ExportSource

SETTING = "cur_uri"


def _text(name: str, description: str, *, required: bool = True) -> th.Property:
    return th.Property(name, th.StringType, required=required, description=description)


SCHEMA = th.PropertiesList(
    th.Property("usage_date", th.DateType, required=True, description="UTC day the usage started."),
    _text("billing_period", "Billing period (YYYY-MM) of the delivery the row comes from."),
    _text(
        "delivery_id",
        "assemblyId (legacy CUR) or executionId (CUR 2.0) of the delivery; a new one restates "
        "the whole billing period — keep only the latest delivery per period.",
    ),
    _text("cur_generation", "`legacy` (Cost and Usage Report) or `2.0` (Data Exports CUR 2.0)."),
    _text("payer_account_id", "Payer (management) account; empty when the report lacks it."),
    _text("usage_account_id", "Account that used the resources; leading zeros kept."),
    _text("region", "Region code (product/regionCode, product/region); empty for global usage."),
    _text("product_code", "Service (lineItem/ProductCode), e.g. AmazonEC2."),
    _text("usage_type", "lineItem/UsageType, e.g. USE1-BoxUsage:m5.large."),
    _text("line_item_type", "lineItem/LineItemType: Usage, DiscountedUsage, Tax, Credit, …"),
    _text("pricing_unit", "Unit of usage_amount (pricing/unit), e.g. Hrs, GB-Mo; may be empty."),
    _text("instance_type", "product/instanceType; empty when not an instance."),
    _text("currency_code", "Currency of unblended_cost (lineItem/CurrencyCode), e.g. USD."),
    _text(
        "resource_tags_key",
        "The requested tag values as a JSON list (cur_include_tags order); empty without tags.",
    ),
    th.Property(
        "resource_tags",
        th.ObjectType(additional_properties=True),
        description="Values of the tag keys in cur_include_tags; null when none were asked for.",
    ),
    th.Property(
        "usage_amount",
        th.NumberType,
        description="Sum of lineItem/UsageAmount, in pricing_unit; null when no line item had one.",
    ),
    th.Property(
        "unblended_cost",
        th.NumberType,
        description="Sum of lineItem/UnblendedCost, in currency_code (credits are negative).",
    ),
    th.Property(
        "amortized_cost",
        th.NumberType,
        description="Sum of the amortized (effective) cost, in currency_code: "
        "reservation/EffectiveCost for DiscountedUsage, savingsPlan/SavingsPlanEffectiveCost "
        "for SavingsPlanCoveredUsage, 0 for SavingsPlanNegation, SavingsPlanUpfrontFee and RI "
        "upfront fees, the unused commitment for SavingsPlanRecurringFee and RIFee, the "
        "unblended cost otherwise; null when the report lacks the column a line item needs.",
    ),
    th.Property(
        "net_unblended_cost",
        th.NumberType,
        description="Sum of lineItem/NetUnblendedCost (line_item_net_unblended_cost), after "
        "discounts, in currency_code; null when the report has no such column.",
    ),
    th.Property(
        "public_on_demand_cost",
        th.NumberType,
        description="Sum of pricing/publicOnDemandCost (pricing_public_on_demand_cost), the "
        "cost at public on-demand rates, in currency_code; null when the report lacks it.",
    ),
    th.Property(
        "line_item_count",
        th.IntegerType,
        required=True,
        description="Number of line items summed into the row.",
    ),
    th.Property(
        "vcpu",
        th.NumberType,
        description="product/vcpu of the row's line items (fixed by instance type; the largest "
        "if they differ).",
    ),
    th.Property("memory", th.StringType, description="product/memory as AWS writes it (8 GiB)."),
    th.Property("volume_type", th.StringType, description="product/volumeType (storage)."),
    th.Property("storage_media", th.StringType, description="product/storageMedia (storage)."),
).to_dict()


class CurUsageDailyStream(ServiceStream[AwsServices], Stream):
    """Daily usage and cost per account, region, service and usage type from a CUR.

    Each billing period's current delivery is aggregated as a whole (its files hold parts of the
    same days) and emitted; only then does the state remember the delivery, so an interrupted
    run reads the period again and the key makes that re-read an upsert. A later run reads only
    periods whose delivery changed.
    """

    name = "cur_usage_daily"
    primary_keys = (
        "billing_period",
        "delivery_id",
        "usage_date",
        "payer_account_id",
        "usage_account_id",
        "region",
        "product_code",
        "usage_type",
        "line_item_type",
        "pricing_unit",
        "instance_type",
        "currency_code",
        "resource_tags_key",
    )
    replication_key = None
    schema = SCHEMA
    # Records leave the engine already JSON-ready (ISO dates, Decimals, finite floats, text),
    # so singer-sdk's per-value conformance pass, a third of the emit time, is skipped.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        """Daily rows of each billing period whose delivery changed since the bookmark."""
        source = self.services.export_source(self.name, SETTING)
        state = self.get_context_state(context)
        done: dict[str, str] = state.setdefault("periods", {})
        planned = plan_deliveries(source)
        todo = [d for d in planned if done.get(d.billing_period) != d.bookmark]
        tags: list[str] = list(self.config.get("cur_include_tags") or [])
        unseen = set(tags)
        self.logger.info(
            "%s: %d billing periods under %s, %d with a new delivery.",
            self.name,
            len(planned),
            source.uri,
            len(todo),
        )
        for delivery in todo:
            yield from self.services.telemetry.counted(
                self._aggregate(source, delivery, unseen), provider="aws", stream=self.name
            )
            done[delivery.billing_period] = delivery.bookmark
            # State goes out only after every record of the delivery: resume never skips one.
            self._write_state_message()
        if todo and unseen:
            self.logger.warning(
                "%s: cur_include_tags key(s) %s had no value in any line item read; a tag "
                "appears in the report only once activated as a cost allocation tag, and keys "
                "are case-sensitive — check the spelling against the report's resourceTags/… "
                "columns or resource_tags keys",
                self.name,
                ", ".join(repr(t) for t in tags if t in unseen),
            )

    def _aggregate(
        self, source: ExportSource, delivery: Delivery, unseen: set[str]
    ) -> Iterator[dict[str, Any]]:
        """The delivery's daily rows; removes from `unseen` the tags some line item had."""
        if self.config.get("cur_engine") == "athena":  # the same rows, aggregated in Athena
            yield from self.services.athena_engine(self.name).records(delivery, unseen)
            return
        threads = os.cpu_count() or 1
        with tempfile.TemporaryDirectory(prefix="cur-spill-") as spill:
            aggregator = DailyAggregator(
                tags=self.config.get("cur_include_tags") or [],
                memory_limit_mb=int(self.config.get("cur_memory_limit_mb", 256)),
                threads=threads,
                temp_dir=spill,
            )
            try:
                # A local delivery is read in one scan, so no thread waits for another's
                # file; S3 objects are spooled to disk one group per thread at a time (a
                # gzip stream is read by one thread, so a group keeps every thread busy).
                files = list(delivery.files)
                step = threads if source.spools else max(len(files), 1)
                for start in range(0, len(files), step):
                    with ExitStack() as stack:
                        group = [
                            CurFile(
                                stack.enter_context(source.local_copy(info.key)),
                                source.uri_of(info.key),
                                file_format(info.key) or "csv",
                            )
                            for info in files[start : start + step]
                        ]
                        for batch in _same_layout(group):
                            aggregator.add(batch)
                extra = {
                    "billing_period": delivery.billing_period,
                    "delivery_id": delivery.delivery_id,
                    "cur_generation": delivery.generation,
                }
                unseen.intersection_update(aggregator.missing_tags())
                for row in aggregator.results():
                    row.update(extra)
                    yield row
            finally:
                aggregator.close()


def _same_layout(files: list[CurFile]) -> Iterator[list[CurFile]]:
    """Consecutive files with one format and one set of columns, which one scan can read."""
    batch: list[CurFile] = []
    layout: tuple[str, dict[str, str]] | None = None
    for file in files:
        this = (file.format, file_columns(file))
        if batch and this != layout:
            yield batch
            batch = []
        batch.append(file)
        layout = this
    if batch:
        yield batch
