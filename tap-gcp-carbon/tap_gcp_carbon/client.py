"""BigQuery access: google-cloud-bigquery does the HTTP, paging and job polling; the shared policy
does the retrying (`PolicyRetry` replaces the library's own, `job_retry=None`), pacing and
telemetry; this module turns failures into one line saying what to fix."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from carbon_taps_shared.errors import ErrorClass, ProviderError
from carbon_taps_shared.google import PolicyRetry, classify_google, error_reason
from carbon_taps_shared.messages import short
from carbon_taps_shared.network import apply_environment
from carbon_taps_shared.paging import PageGuard
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.redaction import default_redactor
from carbon_taps_shared.retry import RetryPolicy
from carbon_taps_shared.tapbase import TapUserError
from carbon_taps_shared.telemetry import Telemetry
from carbon_taps_shared.validation import UnexpectedDataError
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.auth import exceptions as auth_exc
from google.auth.transport.requests import AuthorizedSession, Request
from google.cloud import bigquery

from tap_gcp_carbon import __version__
from tap_gcp_carbon.auth import make_credentials
from tap_gcp_carbon.identifiers import TableRef, check_project

PAGE_SIZE = 10_000  # rows per getQueryResults page; BigQuery may send fewer (10 MB cap)
# What the client library raises: API errors, retry deadlines, auth and transport failures.
_FAILURES = (
    gexc.GoogleAPICallError,
    gexc.RetryError,
    auth_exc.GoogleAuthError,
    requests.exceptions.RequestException,
)
# What the client library raises when an answer does not have the documented shape.
_PARSING = (ValueError, TypeError, KeyError, AttributeError, IndexError)
MALFORMED_HINT = "check api_endpoint (if set) points at BigQuery, and re-run later"
READ_ROLES = (
    "BigQuery Data Viewer (roles/bigquery.dataViewer) on the dataset and BigQuery Job User "
    "(roles/bigquery.jobUser) on project_id"
)


def _column_paths(fields: Sequence[Any], prefix: str = "") -> set[str]:
    """Every column of a table schema as a dotted path (`project.id`), case-folded."""
    paths: set[str] = set()
    for field in fields:
        path = f"{prefix}{field.name}".lower()
        paths.add(path)
        if field.field_type in ("RECORD", "STRUCT"):
            paths |= _column_paths(field.fields, f"{path}.")
    return paths


class BigQueryReader:
    """One BigQuery client for the tap's lifetime; every call goes through `PolicyRetry`."""

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        policy: RetryPolicy,
        limiter: TokenBucket,
        telemetry: Telemetry,
        logger: logging.Logger,
    ) -> None:
        self._config = config
        self._policy = policy
        self._limiter = limiter
        self._telemetry = telemetry
        self._logger = logger
        credentials, key_project = make_credentials(config)
        project = config.get("project_id") or key_project
        if not project:
            raise TapUserError(
                "project_id is not set and the credentials name no project; set project_id to "
                "the project that runs (and pays for) the queries"
            )
        self.project = check_project(project, "project_id")
        self.location = config.get("location") or None
        self.timeout = float(config.get("request_timeout_seconds", 60))
        try:
            # requests itself reads REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE but not SSL_CERT_FILE;
            # the token refresh has a session of its own, so both get the bundle.
            token_session = apply_environment(requests.Session(), provider="gcp")
            session = apply_environment(
                AuthorizedSession(credentials, auth_request=Request(session=token_session)),
                provider="gcp",
            )
            session.hooks["response"].append(_utf8_only)
        except FileNotFoundError as exc:
            raise TapUserError(f"CA bundle: {exc}; fix or unset the variable") from None
        options = {"api_endpoint": config["api_endpoint"]} if config.get("api_endpoint") else None
        self.client = bigquery.Client(
            project=self.project,
            credentials=credentials,
            location=self.location,
            client_options=options,
            client_info=_client_info(),
            _http=session,
        )

    def _retry(self, stream: str, operation: str) -> Retry:
        """The shared policy in the library's place; typed as its `Retry`, which the client
        only ever calls as a decorator (and tests for truth), as `PolicyRetry` allows."""
        policy_retry = PolicyRetry(
            self._policy,
            limiter=self._limiter,
            telemetry=self._telemetry,
            stream=stream,
            operation=operation,
        )
        return cast("Retry", policy_retry)

    def table_columns(self, ref: TableRef, *, stream: str, setting: str) -> tuple[set[str], Any]:
        """(column paths, timePartitioning) of `ref`, from tables.get."""
        with self._failures_explained(stream, "tables.get", ref, setting):
            table = self.client.get_table(
                ref.api_id, retry=self._retry(stream, "tables.get"), timeout=self.timeout
            )
            return _column_paths(table.schema), table.time_partitioning

    def query(
        self,
        sql: str,
        params: list[Any],
        *,
        stream: str,
        ref: TableRef,
        setting: str,
    ) -> Iterator[dict[str, Any]]:
        """Rows of `sql` as dicts (RECORDs as nested dicts), after logging the bytes it cost."""
        cap = int(self._config["maximum_bytes_billed"])
        job_config = bigquery.QueryJobConfig(
            query_parameters=params,
            maximum_bytes_billed=cap,
            use_legacy_sql=False,
            labels={"tap": "tap-gcp-carbon", "stream": stream.replace("_", "-")},
        )
        retry = self._retry(stream, "query")
        with self._telemetry.span(
            "gcp bigquery query",
            provider="gcp",
            stream=stream,
            operation="jobs.insert",
            table=ref.api_id,
        ) as span:
            with self._failures_explained(stream, "query", ref, setting):
                job = self.client.query(
                    sql,
                    job_config=job_config,
                    location=self.location,
                    retry=retry,
                    job_retry=None,  # the policy retries requests; never re-run a whole job
                    timeout=self.timeout,
                )
                rows = job.result(retry=retry, page_size=PAGE_SIZE)
                processed = job.total_bytes_processed
                billed = job.total_bytes_billed
                cache_hit = job.cache_hit
            span.set_attribute("carbon_taps.bytes_processed", processed or 0)
            span.set_attribute("carbon_taps.bytes_billed", billed or 0)
            self._logger.info(
                "%s: BigQuery job %s processed %s bytes (billed %s; cache hit %s; "
                "maximum_bytes_billed %d); %s rows.",
                stream,
                job.job_id,
                processed,
                billed,
                cache_hit,
                cap,
                rows.total_rows,
            )
        yield from self._rows(rows, stream, ref, setting)

    def _rows(
        self, rows: Any, stream: str, ref: TableRef, setting: str
    ) -> Iterator[dict[str, Any]]:
        """Every row, page by page: a page token seen before (or endless empty pages: the shared
        page guard), a row without all its columns or fewer rows than the answers' totalRows
        end the run instead of losing data silently."""
        count, totals = 0, set()
        guard = PageGuard(f"{stream}: the query on {ref}", support="Google Cloud support")
        with self._failures_explained(stream, "getQueryResults", ref, setting):
            width = len(rows.schema)
            for page in rows.pages:
                totals.add(rows.total_rows)
                before = count
                for row in page:
                    if len(row) != width:
                        raise UnexpectedDataError(
                            f"{stream}: a row of the query on {ref} has {len(row)} of its {width} "
                            f"columns; {MALFORMED_HINT}"
                        )
                    count += 1
                    yield dict(row.items())
                guard.next_page(rows.next_page_token or None, count - before)
        if totals != {count}:
            raise UnexpectedDataError(
                f"{stream}: BigQuery sent {count} rows of the query on {ref} but reported "
                f"{', '.join(sorted(map(str, totals)))} in total; {MALFORMED_HINT}"
            )

    @contextmanager
    def _failures_explained(
        self, stream: str, operation: str, ref: TableRef, setting: str
    ) -> Iterator[None]:
        """The library's failures of one call as one line naming the call, the table and what
        to change; the same for every call the reader makes."""
        try:
            yield
        except NotUtf8Answer as exc:
            raise UnexpectedDataError(f"{stream}: {exc}") from None
        except _FAILURES as exc:
            raise self._translate(exc, stream, operation, ref, setting) from exc
        except _PARSING as exc:
            raise _malformed(exc, stream, operation, ref) from None

    def _translate(
        self, exc: BaseException, stream: str, operation: str, ref: TableRef, setting: str
    ) -> Exception:
        """One line for the user: what failed and which setting or permission fixes it."""
        if isinstance(exc, auth_exc.RefreshError):
            return TapUserError(
                f"{stream}: Google rejected the credentials ({type(exc).__name__}); check "
                "credentials_path / credentials_json (a current service-account key), ADC and "
                "impersonate_service_account"
            )
        if isinstance(exc, auth_exc.GoogleAuthError):
            # e.g. TransportError: the token endpoint could not be reached (TLS, proxy, DNS).
            found = classify_google(exc)
            network_hint = "check network access to the key's token_uri (proxy, CA bundle)"
            return ProviderError(
                found,
                provider="gcp",
                operation="token request",
                hint=None if found.code == "CertificateNotTrusted" else network_hint,
            )
        reason = error_reason(exc)
        # errors[0].message is BigQuery's own text, without the client's "GET <url>:" prefix.
        errors = getattr(exc, "errors", None) or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
        message = " ".join(
            str(first.get("message") or getattr(exc, "message", None) or exc).split()
        )
        message = default_redactor.redact(message)
        if reason == "bytesBilledLimitExceeded" or "exceeded limit for bytes billed" in message:
            return TapUserError(
                f"{stream}: the query on {ref} would bill more than maximum_bytes_billed="
                f"{self._config['maximum_bytes_billed']} ({message}); "
                "raise maximum_bytes_billed or narrow start_month"
            )
        if reason == "invalidQuery" and "nrecognized name" in message:
            return TapUserError(
                f"{stream}: {ref} lacks a column the tap reads ({message}); point {setting} at "
                "the export table itself"
            )
        found = replace(classify_google(exc), message=message)
        hint = None
        if found.error_class is ErrorClass.NOT_FOUND:
            what = "dataset" if "Dataset" in message else "table"
            hint = (
                f"the {what} in {setting} ({ref}) does not exist or is in another project or "
                "location; check the name (case matters), the project part and location"
            )
        elif found.error_class is ErrorClass.AUTH:
            hint = f"grant {READ_ROLES} to the identity the tap runs as"
        elif found.error_class is ErrorClass.BAD_REQUEST:
            hint = f"check {setting}, location and project_id"
        return ProviderError(
            found, provider="gcp", operation=f"BigQuery {operation} for {stream}", hint=hint
        )


class NotUtf8Answer(UnexpectedDataError):
    """Raised by the session hook below; the reader adds which stream asked."""


def _utf8_only(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """JSON is UTF-8 (RFC 8259): refuse other bytes before the client guesses an encoding and
    reads a broken answer as mojibake."""
    if "json" in response.headers.get("Content-Type", "") and response.content:
        try:
            response.content.decode("utf-8")
        except UnicodeDecodeError:
            path = urlsplit(response.url or "").path
            raise NotUtf8Answer(
                f"the BigQuery answer to {path} is not UTF-8 text; {MALFORMED_HINT}"
            ) from None
    return response


def _malformed(exc: BaseException, stream: str, operation: str, ref: TableRef) -> BaseException:
    """A parse failure inside the client library means a malformed answer; anything else is a
    bug of the tap's own and keeps its traceback."""
    trace, library = exc.__traceback__, False
    while trace is not None:
        name = str(trace.tb_frame.f_globals.get("__name__", ""))
        library = library or name.startswith(("google.cloud.bigquery", "google.api_core"))
        trace = trace.tb_next
    if not library:
        return exc
    return UnexpectedDataError(
        f"{stream}: the BigQuery {operation} answer for {ref} cannot be read "
        f"({type(exc).__name__}: {short(exc, 60)}); {MALFORMED_HINT}"
    )


def _client_info() -> Any:
    from google.api_core.client_info import ClientInfo

    return ClientInfo(user_agent=f"tap-gcp-carbon/{__version__}")
