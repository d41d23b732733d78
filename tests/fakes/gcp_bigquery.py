"""Local fake of the BigQuery REST API (v2) and Google's OAuth token endpoint.

It really evaluates the SQL it is sent: tables live in DuckDB with STRUCT/LIST columns, the few
BigQuery-isms the tap uses are translated (backtick table references, `@param`, `IN UNNEST`,
FLOAT64), typed query parameters are decoded as BigQuery does, and results are encoded as
BigQuery TableRows (TIMESTAMP as int64 microseconds, every scalar a string). It validates what it
is sent: a bearer token it issued itself (service-account JWT, RS256, checked with the key's
public half), typed parameters, `maximumBytesBilled` (estimated bytes, 10 MB minimum, so a cap
below fails like BigQuery with `bytesBilledLimitExceeded`), dataset and table existence (404
`notFound`) and denied datasets (403 `accessDenied`) in BigQuery's error format.

Run it alone (for the demo) with
`python -m tests.fakes.gcp_bigquery --data sample_data/gcp/bigquery --key-out KEY.json`;
it prints its base URL on stdout.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import math
import re
import threading
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import duckdb
import pyarrow as pa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.fakes._http import Faults, JsonFake, Reply, Request
from tests.fakes.gcp_key import PUBLIC_KEY, service_account_info

PREFIX = "/bigquery/v2/projects/"
MIN_BILLED = 10 * 1024 * 1024
_TABLE_REF = re.compile(r"`([^`]+)`")
_PARAM = re.compile(r"@(\w+)")
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# Every access token the token endpoint issues starts with this (the secret scan looks for it).
ACCESS_TOKEN_PREFIX = "ya29.fake-"
# How query result paging ends (`paging=`, `--paging`): "normal"; "cycle", the last page's
# pageToken is the one that led to the second page again (A -> B -> A; needs three pages or
# more); "endless_empty", past the last page every page is empty and points at the next one
# with a token never sent before.
PAGING = ("normal", "cycle", "endless_empty")


def _b64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


@dataclass
class FakeTable:
    """A BigQuery table: REST schema fields, rows as nested dicts, optional timePartitioning."""

    schema: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    time_partitioning: dict[str, Any] | None = None


@dataclass
class Job:
    job_id: str
    project: str
    location: str
    config: dict[str, Any]
    error: dict[str, Any] | None = None
    http_status: int = 200
    schema: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    bytes_processed: int = 0
    bytes_billed: int = 0
    polls_left: int = 0  # jobs.get / getQueryResults answers that still say RUNNING

    @property
    def sql(self) -> str:
        return self.config["query"]["query"]


def _arrow_type(f: dict[str, Any]) -> pa.DataType:
    kind = f["type"].upper()
    if kind in ("RECORD", "STRUCT"):
        base: pa.DataType = pa.struct([pa.field(s["name"], _arrow_type(s)) for s in f["fields"]])
    else:
        base = {
            "STRING": pa.string(),
            "INTEGER": pa.int64(),
            "INT64": pa.int64(),
            "FLOAT": pa.float64(),
            "FLOAT64": pa.float64(),
            "NUMERIC": pa.decimal128(38, 9),
            "BOOLEAN": pa.bool_(),
            "DATE": pa.date32(),
            "TIMESTAMP": pa.timestamp("us"),
        }[kind]
    return pa.list_(base) if f.get("mode") == "REPEATED" else base


def _bq_field(name: str, t: pa.DataType) -> dict[str, Any]:
    if pa.types.is_list(t):
        return {**_bq_field(name, t.value_type), "mode": "REPEATED"}
    if pa.types.is_struct(t):
        subs = [_bq_field(t.field(i).name, t.field(i).type) for i in range(t.num_fields)]
        return {"name": name, "type": "RECORD", "mode": "NULLABLE", "fields": subs}
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        kind = "STRING"
    elif pa.types.is_integer(t):
        kind = "INTEGER"
    elif pa.types.is_floating(t):
        kind = "FLOAT"
    elif pa.types.is_decimal(t):
        kind = "NUMERIC"
    elif pa.types.is_boolean(t):
        kind = "BOOLEAN"
    elif pa.types.is_date(t):
        kind = "DATE"
    elif pa.types.is_timestamp(t):
        kind = "TIMESTAMP"
    else:
        raise ValueError(f"fake cannot encode {t}")
    return {"name": name, "type": kind, "mode": "NULLABLE"}


def _naive_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, dict):
        return {k: _naive_utc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_naive_utc(v) for v in value]
    return value


def encode_value(f: dict[str, Any], value: Any, *, repeated_done: bool = False) -> Any:
    """One cell as BigQuery's TableRow encodes it."""
    if value is None:
        return None
    if f.get("mode") == "REPEATED" and not repeated_done:
        return [{"v": encode_value(f, v, repeated_done=True)} for v in value]
    kind = f["type"]
    if kind == "RECORD":
        return {"f": [{"v": encode_value(s, value.get(s["name"]))} for s in f["fields"]]}
    if kind == "TIMESTAMP":
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return str(round(moment.timestamp() * 1_000_000))
    if kind == "DATE":
        return value.isoformat()
    if kind == "BOOLEAN":
        return "true" if value else "false"
    if kind == "FLOAT":
        return repr(float(value))
    if kind == "NUMERIC":
        return str(Decimal(value))
    return str(value)


def _decode_param(ptype: dict[str, Any], pvalue: dict[str, Any]) -> Any:
    kind = ptype["type"]
    if kind == "ARRAY":
        return [_decode_param(ptype["arrayType"], v) for v in pvalue.get("arrayValues", [])]
    raw = pvalue.get("value")
    if raw is None:
        return None
    if kind == "DATE":
        return date.fromisoformat(raw)
    if kind == "TIMESTAMP":
        return _naive_utc(datetime.fromisoformat(raw))
    if kind == "INT64":
        return int(raw)
    if kind == "FLOAT64":
        return float(raw)
    if kind == "BOOL":
        return raw in (True, "true", "TRUE")
    if kind == "STRING":
        return str(raw)
    raise ValueError(f"unsupported parameter type {kind}")


def error_body(status: int, reason: str, message: str) -> dict[str, Any]:
    names = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}
    names |= {404: "NOT_FOUND", 409: "ALREADY_EXISTS", 429: "RESOURCE_EXHAUSTED"}
    names |= {500: "INTERNAL", 503: "UNAVAILABLE"}
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"reason": reason, "message": message, "domain": "global"}],
            "status": names.get(status, "UNKNOWN"),
        }
    }


class QueryError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


def generate_service_account(token_uri: str, project: str) -> tuple[dict[str, Any], Any]:
    """A service-account key JSON dict for the session's test key, and its public half."""
    return service_account_info(token_uri, project), PUBLIC_KEY


# What Google's front end answers for a 502: an HTML page, not the API's JSON error.
GFE_502 = (
    b"<!DOCTYPE html>\n<html lang=en><meta charset=utf-8><title>Error 502 (Server Error)!!1"
    b"</title><p><b>502.</b> <ins>That's an error.</ins><p>The server encountered a "
    b"temporary error and could not complete your request.<p>Please try again in 30 seconds."
    b"  <ins>That's all we know.</ins>\n"
)
EXPIRED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
    "or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)


class BigQueryFake(JsonFake):
    """BigQuery REST v2 and the OAuth token endpoint; see the module docstring.

    Fault mode (`faults=`, `--faults`), on `/bigquery/v2/` paths: throttling is
    `rateLimitExceeded` (BigQuery sends no Retry-After; `429_retry_after` adds the `Retry-After`
    Google's front end may send), 500 `internalError`, 503 `backendError`, and 502 the front
    end's HTML page. `expired_token` revokes the bearer token a request carries once it has
    served a request (a token that expired early, or was revoked): the fake answers 401
    `UNAUTHENTICATED` with `WWW-Authenticate: … error="invalid_token"`, and a client must fetch
    a new token from `/token` and send the request again.
    """

    fault_paths = (r"^/bigquery/v2/",)

    def __init__(
        self,
        tables: dict[str, FakeTable],
        *,
        project: str = "carbon-fake-project",
        location: str = "US",
        page_rows: int = 100,
        denied: set[str] | None = None,
        bytes_per_cell: int = 8,
        running_polls: int = 0,
        service_accounts: dict[str, Any] | None = None,
        faults: Faults | None = None,
        paging: str = "normal",
    ) -> None:
        """`tables` maps `project.dataset.table` (or `dataset.table` in `project`) to tables;
        `service_accounts` maps client_email -> RSA public key allowed to get tokens."""
        super().__init__(faults)
        if paging not in PAGING:
            raise ValueError(f"unknown paging {paging!r}; known: {PAGING}")
        self.paging = paging  # see PAGING
        self.project = project
        self.location = location
        self.page_rows = page_rows
        self.denied = denied or set()
        self.bytes_per_cell = bytes_per_cell
        self.running_polls = running_polls  # like a real job: not DONE at once
        self.service_accounts = dict(service_accounts or {})
        self.tokens: set[str] = set()
        self.revoked: set[str] = set()  # tokens the fault mode expired
        self.token_uses: Counter[str] = Counter()  # API requests each token was accepted for
        self.jobs: dict[str, Job] = {}
        self.fail_next: list[Reply] = []  # scripted transient failures, served first
        self.tables: dict[str, FakeTable] = {}
        self._db = duckdb.connect()
        self._db.execute("SET TimeZone = 'UTC'")
        self._db_lock = threading.Lock()
        for name, table in tables.items():
            full = name if name.count(".") == 2 else f"{project}.{name}"
            self.put_table(full, table)

    # --- data ---------------------------------------------------------------------------------
    def put_table(self, full: str, table: FakeTable) -> None:
        """Create or replace a table (tests rewrite months to simulate backfills)."""
        project, dataset, name = full.split(".")
        self.tables[full] = table
        fields = [pa.field(f["name"], _arrow_type(f)) for f in table.schema]
        rows = [_naive_utc(r) for r in table.rows]
        partitioning = table.time_partitioning or {}
        if partitioning and not partitioning.get("field"):
            fields.append(pa.field("_PARTITIONTIME", pa.timestamp("us")))
            rows = [{**r, "_PARTITIONTIME": self._partition_time(r)} for r in rows]
        arrow = pa.Table.from_pylist(rows, schema=pa.schema(fields))
        with self._db_lock:
            self._db.execute(f'CREATE SCHEMA IF NOT EXISTS "{project}.{dataset}"')
            self._db.register("incoming", arrow)
            self._db.execute(
                f'CREATE OR REPLACE TABLE "{project}.{dataset}"."{name}" AS SELECT * FROM incoming'
            )
            self._db.unregister("incoming")

    @staticmethod
    def _partition_time(row: dict[str, Any]) -> datetime | None:
        """Ingestion-time partition: the day the row was loaded, i.e. of its export_time."""
        if "_PARTITIONTIME" in row:
            return row["_PARTITIONTIME"]
        moment = row.get("export_time")
        return moment.replace(hour=0, minute=0, second=0, microsecond=0) if moment else None

    # --- HTTP ---------------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        try:
            return self._handle(request)
        except Exception:  # a fake bug must fail the test at once, not hang a retrying client
            traceback.print_exc()
            return Reply(500, error_body(500, "fakeBug", "the fake crashed; see its stderr"))

    def _handle(self, request: Request) -> Reply:
        if request.path == "/token":
            return self._token(request)
        if self.fail_next:
            return self.fail_next.pop(0)
        auth = request.header("Authorization") or ""
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return _unauthenticated()
        self.token_uses[auth[7:]] += 1
        if not request.path.startswith(PREFIX):
            return Reply(404, error_body(404, "notFound", f"No such API: {request.path}"))
        parts = request.path[len(PREFIX) :].split("/")
        query = {k: v[-1] for k, v in parse_qs(request.query).items()}
        try:
            if len(parts) == 5 and parts[1] == "datasets" and parts[3] == "tables":
                return self._get_table(parts[0], parts[2], parts[4])
            if parts[1:] == ["jobs"] and request.method == "POST":
                return self._insert_job(parts[0], request.json())
            if len(parts) == 3 and parts[1] == "jobs":
                return Reply(200, self._job_resource(self._poll(self._job(parts[2]))))
            if parts[1:] == ["queries"] and request.method == "POST":
                return self._jobs_query(parts[0], request.json())
            if len(parts) == 3 and parts[1] == "queries":
                return self._results(self._job(parts[2]), query)
        except QueryError as exc:
            return Reply(exc.status, error_body(exc.status, exc.reason, exc.message))
        return Reply(404, error_body(404, "notFound", f"Unknown path {request.path}"))

    # --- fault mode ---------------------------------------------------------------------------
    def fault_reply(self, kind: str, request: Request) -> Reply:
        if kind in ("429", "429_retry_after"):
            headers = {}
            if kind == "429_retry_after":
                headers["Retry-After"] = str(max(1, math.ceil(self.fault_mode.retry_after_seconds)))
            message = (
                "Exceeded rate limits: too many api requests per user per method for this "
                "user_method. For more information, see "
                "https://cloud.google.com/bigquery/docs/troubleshoot-quotas"
            )
            return Reply(429, error_body(429, "rateLimitExceeded", message), headers)
        if kind == "500":
            return Reply(500, error_body(500, "internalError", "An internal error occurred."))
        if kind == "502":
            return Reply(502, GFE_502, {"Content-Type": "text/html; charset=UTF-8"})
        message = "Error encountered during execution. Retrying may solve the problem."
        return Reply(503, error_body(503, "backendError", message))

    def expire_token(self, request: Request) -> Reply | None:
        auth = request.header("Authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if token not in self.tokens or not self.token_uses[token]:
            return None  # only a token that has worked can expire mid-run
        self.tokens.discard(token)
        self.revoked.add(token)
        return _unauthenticated()

    def _token(self, request: Request) -> Reply:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return Reply(400, {"error": "unsupported_grant_type"})
        try:
            header_b64, claims_b64, signature_b64 = form["assertion"].split(".")
            header = json.loads(_b64url(header_b64))
            claims = json.loads(_b64url(claims_b64))
            public_key = self.service_accounts[claims["iss"]]
            public_key.verify(
                _b64url(signature_b64),
                f"{header_b64}.{claims_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except Exception:
            return Reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT."})
        if header.get("alg") != "RS256" or SCOPE not in claims.get("scope", "").split():
            return Reply(400, {"error": "invalid_scope"})
        if claims.get("exp", 0) < time.time():
            return Reply(400, {"error": "invalid_grant", "error_description": "JWT expired."})
        token = f"{ACCESS_TOKEN_PREFIX}{uuid.uuid4().hex}"
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _resolve(self, project: str, dataset: str, table: str) -> FakeTable:
        full = f"{project}.{dataset}.{table}"
        if not any(t.startswith(f"{project}.{dataset}.") for t in self.tables):
            raise QueryError(
                404,
                "notFound",
                f"Not found: Dataset {project}:{dataset} was not found in location {self.location}",
            )
        if dataset in self.denied or full in self.denied:
            raise QueryError(
                403,
                "accessDenied",
                f"Access Denied: Table {project}:{dataset}.{table}: User does not "
                "have permission to query table "
                f"{project}:{dataset}.{table}, or perhaps it does not exist.",
            )
        if full not in self.tables:
            raise QueryError(
                404,
                "notFound",
                f"Not found: Table {project}:{dataset}.{table} was not found in "
                f"location {self.location}",
            )
        return self.tables[full]

    def _get_table(self, project: str, dataset: str, table: str) -> Reply:
        found = self._resolve(project, dataset, table)
        body: dict[str, Any] = {
            "kind": "bigquery#table",
            "tableReference": {"projectId": project, "datasetId": dataset, "tableId": table},
            "schema": {"fields": found.schema},
            "numRows": str(len(found.rows)),
            "location": self.location,
        }
        if found.time_partitioning:
            body["timePartitioning"] = found.time_partitioning
        return Reply(200, body)

    def _job(self, job_id: str) -> Job:
        if job_id not in self.jobs:
            raise QueryError(404, "notFound", f"Not found: Job {self.project}:{job_id}")
        return self.jobs[job_id]

    @staticmethod
    def _poll(job: Job) -> Job:
        job.polls_left = max(0, job.polls_left - 1)
        return job

    def _job_resource(self, job: Job) -> dict[str, Any]:
        status: dict[str, Any] = {"state": "RUNNING" if job.polls_left else "DONE"}
        if job.error and not job.polls_left:
            status["errorResult"] = job.error
            status["errors"] = [job.error]
        return {
            "kind": "bigquery#job",
            "id": f"{job.project}:{job.location}.{job.job_id}",
            "jobReference": {
                "projectId": job.project,
                "jobId": job.job_id,
                "location": job.location,
            },
            "configuration": job.config,
            "status": status,
            "statistics": {
                "totalBytesProcessed": str(job.bytes_processed),
                "query": {
                    "totalBytesProcessed": str(job.bytes_processed),
                    "totalBytesBilled": str(job.bytes_billed),
                    "cacheHit": False,
                },
            },
        }

    def _insert_job(self, project: str, body: dict[str, Any]) -> Reply:
        reference = body.get("jobReference") or {}
        job_id = reference.get("jobId") or uuid.uuid4().hex
        if job_id in self.jobs:  # e.g. a retry after the first answer was lost on the way
            location = self.jobs[job_id].location
            raise QueryError(409, "duplicate", f"Already Exists: Job {project}:{location}.{job_id}")
        config = body.get("configuration") or {}
        if "query" not in config:
            raise QueryError(400, "invalid", "Only query jobs are supported by the fake")
        job = Job(job_id, project, reference.get("location") or self.location, config)
        job.polls_left = self.running_polls
        self._run(job)
        self.jobs[job_id] = job
        return Reply(200, self._job_resource(job))

    def _jobs_query(self, project: str, body: dict[str, Any]) -> Reply:
        config = {"query": {k: v for k, v in body.items() if k not in ("location", "requestId")}}
        job = Job(uuid.uuid4().hex, project, body.get("location") or self.location, config)
        self._run(job)
        self.jobs[job.job_id] = job
        return self._results(job, {"maxResults": str(body.get("maxResults", self.page_rows))})

    def _results(self, job: Job, query: dict[str, str]) -> Reply:
        reference = {"projectId": job.project, "jobId": job.job_id, "location": job.location}
        if self._poll(job).polls_left:
            return Reply(200, {"jobReference": reference, "jobComplete": False})
        if job.error:
            return Reply(
                job.http_status,
                error_body(job.http_status, job.error["reason"], job.error["message"]),
            )
        start = int(query.get("pageToken") or 0)
        wanted = int(query.get("maxResults", self.page_rows))
        size = min(wanted, self.page_rows)
        body: dict[str, Any] = {
            "kind": "bigquery#getQueryResultsResponse",
            "jobReference": {
                "projectId": job.project,
                "jobId": job.job_id,
                "location": job.location,
            },
            "jobComplete": True,
            "totalRows": str(len(job.rows)),
            "schema": {"fields": job.schema},
            "totalBytesProcessed": str(job.bytes_processed),
        }
        if size > 0:
            page = job.rows[start : start + size]
            body["rows"] = [
                {"f": [{"v": encode_value(f, row[f["name"]])} for f in job.schema]} for row in page
            ]
            if start + size < len(job.rows):
                body["pageToken"] = str(start + size)
            elif self.paging == "cycle" and start > size:
                body["pageToken"] = str(size)  # back to the second page
            elif self.paging == "endless_empty":
                body["pageToken"] = str(start + size)  # past the end: empty, and another
        return Reply(200, body)

    # --- SQL ----------------------------------------------------------------------------------
    def _run(self, job: Job) -> None:
        try:
            self._evaluate(job)
        except QueryError as exc:
            job.error = {"reason": exc.reason, "message": exc.message, "location": "query"}
            job.http_status = exc.status

    def _evaluate(self, job: Job) -> None:
        q = job.config["query"]
        if q.get("useLegacySql", True) is not False:
            raise QueryError(400, "invalidQuery", "The fake speaks standard SQL only")
        if "maximumBytesBilled" not in q:
            raise QueryError(400, "invalid", "fake: every query must set maximumBytesBilled")
        params = {}
        for p in q.get("queryParameters", []):
            if "parameterType" not in p or "name" not in p:
                raise QueryError(400, "invalid", "Query parameter without name or type")
            try:
                params[p["name"]] = _decode_param(p["parameterType"], p.get("parameterValue", {}))
            except (KeyError, ValueError) as exc:
                raise QueryError(
                    400, "invalid", f"Bad query parameter {p['name']}: {exc}"
                ) from None
        sql = q["query"]
        for name in set(_PARAM.findall(sql)):
            if name not in params:
                raise QueryError(400, "invalidQuery", f"Query parameter '{name}' not found")
        referenced: list[FakeTable] = []

        def table(match: re.Match[str]) -> str:
            parts = match.group(1).split(".")
            if len(parts) == 2:
                parts = [job.project, *parts]
            referenced.append(self._resolve(*parts))
            return f'"{parts[0]}.{parts[1]}"."{parts[2]}"'

        duck = _TABLE_REF.sub(table, sql)
        duck = re.sub(r"IN\s+UNNEST\(@(\w+)\)", r"IN (SELECT UNNEST($\1))", duck)
        duck = _PARAM.sub(r"$\1", duck)
        duck = re.sub(r"\bFLOAT64\b", "DOUBLE", duck)
        duck = re.sub(r"\bINT64\b", "BIGINT", duck)
        used = {k: v for k, v in params.items() if f"${k}" in duck}
        # Bytes: referenced top-level columns x rows (BigQuery bills referenced columns only).
        processed = 0
        for t in referenced:
            cols = [f for f in t.schema if re.search(rf"\b{f['name']}\b", sql, re.I)]
            processed += len(cols) * len(t.rows) * self.bytes_per_cell
        billed = max(MIN_BILLED, math.ceil(processed / 2**20) * 2**20)
        cap = int(q["maximumBytesBilled"])
        if billed > cap:
            raise QueryError(
                400,
                "bytesBilledLimitExceeded",
                f"Query exceeded limit for bytes billed: {cap}. {billed} or higher required.",
            )
        try:
            with self._db_lock:
                arrow = self._db.sql(duck, params=used).to_arrow_table()
        except duckdb.BinderException as exc:
            found = re.search(r'column "?(\w+)"? not found|"(\w+)" not found', str(exc))
            name = next((g for g in (found.groups() if found else ()) if g), "?")
            raise QueryError(400, "invalidQuery", f"Unrecognized name: {name}") from None
        except duckdb.Error as exc:
            raise QueryError(400, "invalidQuery", f"Syntax error: {exc}") from None
        job.schema = [_bq_field(f.name, f.type) for f in arrow.schema]
        job.rows = arrow.to_pylist()
        job.bytes_processed, job.bytes_billed = processed, billed

    # --- test helpers -------------------------------------------------------------------------
    def queries(self) -> list[dict[str, Any]]:
        """The `configuration.query` of every job inserted, in order."""
        return [j.config["query"] for j in self.jobs.values()]

    def api_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path != "/token"]


def _unauthenticated() -> Reply:
    """BigQuery's 401 for a missing, unknown or expired bearer token."""
    return Reply(
        401,
        error_body(401, "authError", EXPIRED),
        {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
    )


def load_tables(folder: Path) -> dict[str, FakeTable]:
    """`<[project.]dataset.table>.json` specs: {"schema", "timePartitioning", "rows_file"}.

    Rows are in `bq extract` JSON form (TIMESTAMP as ISO text), decoded with the schema.
    """
    tables = {}
    for path in sorted(folder.glob("*.json")):
        spec = json.loads(path.read_text())
        raw = spec.get("rows") or []
        if spec.get("rows_file"):  # newline-delimited JSON, as `bq extract` writes it
            with (path.parent / spec["rows_file"]).open() as handle:
                raw = [json.loads(line) for line in handle if line.strip()]
        rows = [decode_json_row(spec["schema"], r) for r in raw]
        tables[path.stem] = FakeTable(spec["schema"], rows, spec.get("timePartitioning"))
    return tables


def decode_json_row(schema: list[dict[str, Any]], row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for f in schema:
        value = row.get(f["name"])
        out[f["name"]] = _decode_json(f, value)
    return out


def _decode_json(f: dict[str, Any], value: Any, repeated_done: bool = False) -> Any:
    if value is None:
        return None
    if f.get("mode") == "REPEATED" and not repeated_done:
        return [_decode_json(f, v, True) for v in value]
    kind = f["type"]
    if kind == "RECORD":
        return decode_json_row(f["fields"], value)
    if kind == "TIMESTAMP":
        return datetime.fromisoformat(str(value).replace(" UTC", "+00:00").replace("Z", "+00:00"))
    if kind == "DATE":
        return date.fromisoformat(value)
    if kind in ("FLOAT", "FLOAT64"):
        return float(value)
    if kind in ("INTEGER", "INT64"):
        return int(value)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of table JSON files")
    parser.add_argument(
        "--key-out", type=Path, required=True, help="write a service-account key for this fake here"
    )
    parser.add_argument("--project", default="carbon-demo-project")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--faults",
        type=Faults.parse,
        default=None,
        help='fault mode, e.g. "rate=0.2,seed=7" (see tests/fakes/_http.py)',
    )
    parser.add_argument("--paging", choices=PAGING, default="normal", help="see PAGING")
    args = parser.parse_args()
    fake = BigQueryFake(
        load_tables(args.data), project=args.project, faults=args.faults, paging=args.paging
    )
    fake.start(port=args.port)
    info, public = generate_service_account(f"{fake.url}/token", args.project)
    fake.service_accounts[info["client_email"]] = public
    args.key_out.write_text(json.dumps(info))
    args.key_out.chmod(0o600)
    print(fake.url, flush=True)
    try:
        for _ in itertools.count():
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
