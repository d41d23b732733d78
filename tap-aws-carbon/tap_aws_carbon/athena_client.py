"""Amazon Athena and Glue through boto3: start a query once, poll it, read it, cancel it.

The clients are built like the tap's other botocore clients (`client.build_client`), so proxies,
CA bundles, the shared retry layer (throttling included), telemetry and redaction apply. What
botocore cannot know is handled here: a query runs asynchronously, so it is polled with backoff
up to a deadline; a FAILED query is started again only when Athena marks its error retryable;
each start carries a ClientRequestToken derived from the run, the attempt and the query, so a
StartQueryExecution that botocore retries never starts a second query; and a query still
QUEUED or RUNNING when the tap is stopped (SIGTERM, Ctrl-C, max_run_minutes, a bytes cap or
the query deadline) is cancelled with StopQueryExecution, so it does not run on unbilled-for.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from carbon_taps_shared.errors import ErrorClass, ProviderError, classify
from carbon_taps_shared.messages import clip
from carbon_taps_shared.paging import PageGuard
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.retry import RetryPolicy
from carbon_taps_shared.tapbase import TapUserError
from carbon_taps_shared.telemetry import Telemetry

from tap_aws_carbon.client import build_client, failure_named

DONE = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
FIRST_POLL_SECONDS = 0.25  # Athena's quickest queries finish in about a second
MAX_POLL_SECONDS = 5.0  # GetQueryExecution is cheap (100/s quota) but a poll per 5 s is plenty
PAGE_SIZE = 1000  # GetQueryResults' maximum (the server enforces it; botocore does not)
CATEGORIES = {1: "system", 2: "user", 3: "other"}
POLICY_FILE = "policies/aws-iam-policy-athena.json"


class AthenaQueryError(TapUserError):
    """A query that failed, was cancelled, ran too long or scanned too much; one line."""


class Terminated(KeyboardInterrupt):
    """SIGTERM while a query runs: unwinds like Ctrl-C so the query is cancelled first."""


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Turn SIGTERM into `Terminated` while a query may be running (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class AthenaQueries:
    """Athena and Glue clients for one stream, with the tap's settings for where queries run."""

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        policy: RetryPolicy,
        telemetry: Telemetry,
        stream: str,
        logger: logging.Logger,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        settings = {**config, "aws_region": config.get("athena_region") or config["aws_region"]}
        self.region = settings["aws_region"]

        def client(service: str, endpoint: str | None, retry: RetryPolicy) -> Any:
            # Athena's own quotas (Get* 100/s) are far above a poll per second: not paced.
            return build_client(
                service,
                settings,
                endpoint,
                policy=retry,
                limiter=TokenBucket(0),
                telemetry=telemetry,
                stream=stream,
            )

        self.athena = client("athena", config.get("athena_endpoint_url"), policy)
        # Cancelling must work after max_run_minutes has passed, when `policy` refuses to send.
        self._stopper = client(
            "athena",
            config.get("athena_endpoint_url"),
            replace(policy, deadline=None, max_attempts=3, max_elapsed=30.0),
        )
        self.glue = client("glue", config.get("glue_endpoint_url"), policy)
        self.database = config["athena_database"]
        self.table = config["athena_table"]
        self.catalog = config.get("athena_catalog") or "AwsDataCatalog"
        self.workgroup = config.get("athena_workgroup") or "primary"
        self.output_location = config.get("athena_output_location") or None
        self.max_bytes = int(config.get("athena_max_bytes_scanned_per_query") or 0)
        self.timeout_seconds = float(config.get("athena_query_timeout_minutes") or 30) * 60
        self.run_id = uuid.uuid4().hex  # a new run starts new queries; a retried call does not
        self._policy = policy
        self._stream = stream
        self._logger = logger
        self._sleep = sleep
        self._state = "QUEUED"  # of the query being waited for
        self._scanned = telemetry.meter.create_counter(
            "carbon_taps.athena.bytes_scanned",
            unit="By",
            description="Bytes Athena scanned (and bills) for the tap's queries",
        )

    # --- Glue --------------------------------------------------------------------------------
    def get_table(self) -> dict[str, Any]:
        """The Glue GetTable answer for athena_database.athena_table."""
        return self._call(
            self.glue.get_table, "Glue GetTable", DatabaseName=self.database, Name=self.table
        )

    def has_table(self, name: str) -> bool:
        """Whether athena_database holds a table `name` (Glue GetTable)."""
        try:
            self.glue.get_table(DatabaseName=self.database, Name=name)
        except self.glue.exceptions.EntityNotFoundException:
            return False
        except (BotoCoreError, ClientError) as exc:
            raise self._provider_error(exc, "Glue GetTable") from exc
        return True

    def partitions(self) -> Iterator[list[str]]:
        """Each partition's values, through boto3's paginator."""
        pages = self.glue.get_paginator("get_partitions").paginate(
            DatabaseName=self.database, TableName=self.table, ExcludeColumnSchema=True
        )
        guard = PageGuard(f"{self._stream} Glue GetPartitions", support="AWS Support")
        iterator = iter(pages)
        while True:
            page = self._call(lambda: next(iterator, None), "Glue GetPartitions")
            if page is None:
                return
            found = page.get("Partitions") or []
            guard.next_page(page.get("NextToken") or None, len(found))
            for partition in found:
                yield [str(v) for v in partition.get("Values") or []]

    # --- Athena ------------------------------------------------------------------------------
    def rows(
        self, sql: str, parameters: Sequence[str], where: str, columns: Sequence[str]
    ) -> Iterator[list[str | None]]:
        """The query's result rows (text, None for NULL), after the header row is checked."""
        attempt = 0
        while True:
            attempt += 1
            execution = self._run(sql, parameters, attempt, where)
            status = execution["Status"]
            query_id = execution["QueryExecutionId"]
            if status["State"] == "SUCCEEDED":
                break
            if status["State"] == "CANCELLED":
                raise AthenaQueryError(
                    f"{where}: Athena query {query_id} was cancelled outside the tap "
                    f"({clip(status.get('StateChangeReason') or 'no reason given', 160)}); "
                    "nothing of the period was emitted and the next run reads it again"
                )
            error = status.get("AthenaError") or {}
            if error.get("Retryable") and attempt < self._policy.max_attempts:
                wait = self._policy.backoff(attempt)
                self._logger.info(
                    "%s: Athena query %s failed with a retryable %s error (type %s); attempt "
                    "%d of %d, starting it again in %.2fs",
                    where,
                    query_id,
                    CATEGORIES.get(int(error.get("ErrorCategory") or 0), "unknown"),
                    error.get("ErrorType"),
                    attempt,
                    self._policy.max_attempts,
                    wait,
                )
                self._policy.check_deadline()
                self._sleep(wait)
                continue
            raise AthenaQueryError(_failure(where, query_id, status, error))
        yield from self._read(query_id, where, list(columns))

    def _token(self, sql: str, parameters: Sequence[str], attempt: int) -> str:
        """Same run, attempt and query -> same token -> Athena returns the same execution."""
        text = json.dumps([self.run_id, attempt, sql, list(parameters)])
        return hashlib.sha256(text.encode()).hexdigest()

    def _run(self, sql: str, parameters: Sequence[str], attempt: int, where: str) -> dict[str, Any]:
        request: dict[str, Any] = {
            "QueryString": sql,
            "QueryExecutionContext": {"Database": self.database, "Catalog": self.catalog},
            "WorkGroup": self.workgroup,
            "ClientRequestToken": self._token(sql, parameters, attempt),
            # A reused result would hide a restated period.
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
        }
        if parameters:  # Athena refuses an empty list
            request["ExecutionParameters"] = list(parameters)
        if self.output_location:
            request["ResultConfiguration"] = {"OutputLocation": self.output_location}
        query_id: str | None = None
        self._state = "QUEUED"
        with _sigterm_interrupts():
            try:
                answer = self._call(
                    self.athena.start_query_execution, "Athena StartQueryExecution", **request
                )
                query_id = answer["QueryExecutionId"]
                return self._wait(query_id, where)
            except BaseException as exc:
                if query_id is not None and self._state not in DONE:
                    self._stop(query_id, where)
                if isinstance(exc, KeyboardInterrupt):
                    signal_name = "SIGTERM" if isinstance(exc, Terminated) else "an interrupt"
                    raise AthenaQueryError(
                        f"{where}: stopped by {signal_name}; Athena query {query_id or '(none)'} "
                        "was cancelled and the next run reads the period again"
                    ) from None
                raise

    def _wait(self, query_id: str, where: str) -> dict[str, Any]:
        """Poll until the query ends, the bytes cap or the query deadline is passed."""
        started = time.monotonic()
        delay = FIRST_POLL_SECONDS
        while True:
            answer = self._call(
                self.athena.get_query_execution,
                "Athena GetQueryExecution",
                QueryExecutionId=query_id,
            )
            execution = answer["QueryExecution"]
            state = self._state = execution["Status"]["State"]
            scanned = int((execution.get("Statistics") or {}).get("DataScannedInBytes") or 0)
            if self.max_bytes and scanned > self.max_bytes:
                raise AthenaQueryError(
                    f"{where}: Athena query {query_id} scanned {scanned:,} bytes, more than "
                    f"athena_max_bytes_scanned_per_query ({self.max_bytes:,}); it was "
                    f"{'cancelled' if state not in DONE else 'already finished'}: raise the "
                    "setting if the table really is that large, or check that it is "
                    "partitioned by billing period"
                )
            if state in DONE:
                if state == "SUCCEEDED":
                    self._count(query_id, where, execution, scanned)
                return execution
            if time.monotonic() - started > self.timeout_seconds:
                raise AthenaQueryError(
                    f"{where}: Athena query {query_id} was still {state} after "
                    f"athena_query_timeout_minutes ({self.timeout_seconds / 60:g}); it was "
                    "cancelled: raise the setting, or check the workgroup's queue (active "
                    "query quota) in the Athena console"
                )
            self._policy.check_deadline()
            self._sleep(delay)
            delay = min(delay * 2, MAX_POLL_SECONDS)

    def _count(self, query_id: str, where: str, execution: dict[str, Any], scanned: int) -> None:
        millis = (execution.get("Statistics") or {}).get("TotalExecutionTimeInMillis") or 0
        self._logger.info(
            "%s: Athena query %s scanned %d bytes (%.1f MB) in %.1f s.",
            where,
            query_id,
            scanned,
            scanned / 1e6,
            millis / 1000,
        )
        self._scanned.add(
            scanned, {"carbon_taps.provider": "aws", "carbon_taps.stream": self._stream}
        )

    def _stop(self, query_id: str, where: str) -> None:
        """Best effort: the failure being reported matters more than a failed cancel."""
        try:
            self._stopper.stop_query_execution(QueryExecutionId=query_id)
            self._logger.info(
                "%s: Athena query %s cancelled (StopQueryExecution).", where, query_id
            )
        except Exception as exc:  # reported, never raised over the original failure
            self._logger.warning(
                "%s: could not cancel Athena query %s (%s); stop it in the Athena console",
                where,
                query_id,
                classify(exc).code or type(exc).__name__,
            )

    def _read(self, query_id: str, where: str, columns: list[str]) -> Iterator[list[str | None]]:
        pages = self.athena.get_paginator("get_query_results").paginate(
            QueryExecutionId=query_id, PaginationConfig={"PageSize": PAGE_SIZE}
        )
        guard = PageGuard(f"{where} (Athena GetQueryResults)", support="AWS Support")
        iterator = iter(pages)
        first = True
        while True:
            page = self._call(lambda: next(iterator, None), "Athena GetQueryResults")
            if page is None:
                return
            rows = page.get("ResultSet", {}).get("Rows") or []
            guard.next_page(page.get("NextToken") or None, len(rows))
            if first:
                first = False
                # The first row of a SELECT's first page holds the column names.
                header = [d.get("VarCharValue") for d in rows[0]["Data"]] if rows else []
                if header != columns:
                    raise AthenaQueryError(
                        f"{where}: Athena query {query_id} answered with columns "
                        f"{clip(', '.join(map(str, header)), 160) or '(none)'}, not the "
                        "aggregate's; check athena_endpoint_url and re-run"
                    )
                rows = rows[1:]
            for row in rows:
                yield [d.get("VarCharValue") for d in row["Data"]]

    def _call(self, method: Callable[..., Any], operation: str, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise self._provider_error(exc, operation) from exc

    def _provider_error(self, exc: BaseException, operation: str) -> ProviderError:
        found = classify(exc)
        failed, hint = failure_named(exc, operation, self._hint(found.error_class, operation))
        if found.code == "EntityNotFoundException":
            hint = (
                f"check athena_database ({self.database}) and athena_table ({self.table}): "
                f"the Glue Data Catalog in {self.region} (athena_region) has no such table"
            )
        return ProviderError(found, provider="aws", operation=failed, hint=hint)

    def _hint(self, error_class: ErrorClass, operation: str) -> str | None:
        service, _, action = operation.partition(" ")
        if error_class is ErrorClass.AUTH:
            return (
                f"grant {service.lower()}:{action} to the identity the tap runs as (all the "
                f"Athena, Glue and S3 grants the engine needs are in {POLICY_FILE})"
            )
        if error_class is ErrorClass.BAD_REQUEST and service == "Athena":
            return (
                "check athena_workgroup, athena_output_location (required unless the workgroup "
                "sets one), athena_catalog and athena_database"
            )
        return None


def _failure(where: str, query_id: str, status: Mapping[str, Any], error: Mapping[str, Any]) -> str:
    """One line for a FAILED query: Athena's category, type and message, and what to do."""
    message = str(error.get("ErrorMessage") or status.get("StateChangeReason") or "no message")
    category = CATEGORIES.get(int(error.get("ErrorCategory") or 0), "unknown")
    upper = message.upper()
    if "TABLE_NOT_FOUND" in upper or "SCHEMA_NOT_FOUND" in upper:
        hint = "check athena_database, athena_table and athena_catalog"
    elif "COLUMN_NOT_FOUND" in upper:
        hint = (
            "the table lacks a column the aggregate reads: re-run the CUR integration's Glue "
            "crawler so the table matches the report"
        )
    elif "WRITING OUTPUT" in upper or "OUTPUT LOCATION" in upper:
        hint = (
            "grant s3:PutObject and s3:GetBucketLocation on athena_output_location to the "
            "identity the tap runs as, or point athena_output_location at a writable prefix"
        )
    elif category == "system":
        hint = "Athena failed on its side: re-run later, and give AWS Support the query id"
    else:
        hint = "fix what Athena names above and re-run"
    return (
        f"{where}: Athena query {query_id} failed ({category} error, type "
        f"{error.get('ErrorType', 'unknown')}): {clip(' '.join(message.split()), 240)}; {hint}"
    )
