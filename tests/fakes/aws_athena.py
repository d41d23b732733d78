"""Local fake of Amazon Athena (and the two Glue calls the tap makes), backed by DuckDB.

moto 5.2.5's Athena runs no SQL (results are empty unless queued by hand, statistics are 0,
no FAILED state, ClientRequestToken ignored), so this fake exists. It serves CUR files laid out
as Athena tables (Hive partition folders `year=/month=` or `BILLING_PERIOD=`) through DuckDB
views in an attached catalog named `awsdatacatalog`.

Athena answers both protocols botocore has described it with, as the real service does, and
the same handlers serve both:

- `json` 1.1 (older botocore, such as 1.44.8): `POST /` with `X-Amz-Target: AmazonAthena.<Op>`;
  errors carry their code in the body, `{"__type": <code>, "Message": ...}`;
- `rest-json` (newer botocore, such as 1.44.18): `POST /query-executions` (StartQueryExecution),
  `GET /query-executions/{QueryExecutionId}` (GetQueryExecution), `GET
  /query-executions/{QueryExecutionId}/results?NextToken=&MaxResults=&QueryResultType=`
  (GetQueryResults), `POST /query-executions/{QueryExecutionId}/stop` (StopQueryExecution);
  the path and query string members join the JSON body, and errors carry their code in the
  `x-amzn-ErrorType` header with `Message` (and the error's other members) in the body.

Either way an error has the same HTTP status (400, or 500 for a fault) and botocore reads the
same code, message and members from it. Glue is `json` 1.1 only (`X-Amz-Target: AWSGlue.<Op>`).

It checks what it is sent as Athena does: SigV4 present for the right service; a known
workgroup; an output location from the request or the workgroup; `?` count equal to
ExecutionParameters and string partition columns compared with quoted literals (Athena
substitutes parameters as text); a ClientRequestToken of 32..128 characters that returns the
same execution for the same request and refuses a changed one; MaxResults at most 1000;
results only once SUCCEEDED. Queries move QUEUED -> RUNNING -> a final state over polls;
unknown tables and columns FAIL with Athena's user-error category and Trino's error names;
statistics count the Parquet column chunks of the partitions the query reads. Trino-only
spellings are rewritten for DuckDB (reference athena.md §5.3): `?` by the parameter text,
`CAST(<column> AS decimal(38,18))` through the double's shortest text, `element_at` as a macro.

`script` plays a chosen outcome for the next queries started (`fail_retryable`, `cancel` from
outside, `hang` until stopped), and the shared fault mode (tests/fakes/_http.py) answers with
Athena's throttling and server errors.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import duckdb
import pyarrow.parquet as pq

from tests.fakes._http import JsonFake, Reply, Request
from tests.fakes.aws_cur import (
    CUR2_DOUBLES,
    LEGACY_HEADERS,
    PAYER,
    LineItem,
    encode_parquet,
    legacy_row,
    snake,
)

JSON_11 = "application/x-amz-json-1.1"
REST_JSON = "application/json"
MAX_RESULTS = 1000
SIGNING_NAMES = {"AmazonAthena": "athena", "AWSGlue": "glue"}  # json 1.1 target prefix -> SigV4
# Athena's rest-json routes: (method, path, operation, query string members and their types).
_EXECUTION = r"/query-executions/(?P<QueryExecutionId>[^/]+)"
_ROUTES: tuple[tuple[str, re.Pattern[str], str, dict[str, type]], ...] = (
    ("POST", re.compile(r"^/query-executions$"), "StartQueryExecution", {}),
    ("GET", re.compile(f"^{_EXECUTION}$"), "GetQueryExecution", {}),
    (
        "GET",
        re.compile(f"^{_EXECUTION}/results$"),
        "GetQueryResults",
        {"NextToken": str, "MaxResults": int, "QueryResultType": str},
    ),
    ("POST", re.compile(f"^{_EXECUTION}/stop$"), "StopQueryExecution", {}),
)
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=[^/]+/\d{8}/[^/]+/(?P<service>[^/]+)/aws4_request"
)
_LITERAL = re.compile(r"^'(?:[^']|'')*'$")
_HIVE = re.compile(r"^(?P<key>[^=/]+)=(?P<value>[^/]*)$")
_CAST_DECIMAL = re.compile(r'CAST\(("(?:[^"]|"")+") AS decimal\(38,\s*18\)\)', re.IGNORECASE)
_COMPARED = re.compile(r'"((?:[^"]|"")+)"\s*=\s*\?$')


@dataclass
class Table:
    """A CUR table: Parquet files under `location`, partitioned by folder names."""

    database: str
    name: str
    location: Path
    partition_keys: tuple[str, ...]

    def files(self) -> list[tuple[dict[str, str], Path]]:
        """(partition values by lower-case key, file) for each Parquet file of the table."""
        found = []
        for path in sorted(self.location.rglob("*.parquet")):
            values = {}
            for part in path.relative_to(self.location).parts[:-1]:
                if match := _HIVE.match(part):
                    values[match["key"].lower()] = match["value"]
            found.append((values, path))
        return found

    @property
    def size(self) -> int:
        """Bytes of all the table's files: what a query without partition pruning reads."""
        return sum(path.stat().st_size for _, path in self.files())


@dataclass
class Call:
    """Which operation a request calls, and how: `protocol` is `json` or `rest-json`."""

    protocol: str
    service: str  # the json 1.1 target prefix: AmazonAthena or AWSGlue
    operation: str
    bound: dict[str, Any] = field(default_factory=dict)  # rest-json path and query members

    @property
    def signing_name(self) -> str | None:
        return SIGNING_NAMES.get(self.service)


def call_of(request: Request) -> Call | None:
    """The operation of a request in either protocol (None: no operation of the fake's)."""
    target = request.header("X-Amz-Target")
    if target is not None:
        service, _, operation = target.partition(".")
        if request.method != "POST" or request.path != "/" or service not in SIGNING_NAMES:
            return None
        return Call("json", service, operation)
    for method, path, operation, members in _ROUTES:
        match = path.match(request.path)
        if match is None or request.method != method:
            continue
        bound: dict[str, Any] = {k: unquote(v) for k, v in match.groupdict().items()}
        for name, value in parse_qsl(request.query, keep_blank_values=True):
            kind = members.get(name)
            if kind is int:
                # A number that does not parse is kept as text, for the handler to refuse.
                bound[name] = int(value) if value.isdigit() else value
            elif kind is not None:
                bound[name] = value
        return Call("rest-json", "AmazonAthena", operation, bound)
    return None


@dataclass
class Execution:
    id: str
    token: str
    request: dict[str, Any]
    output: str
    submitted: float
    outcome: str = "SUCCEEDED"  # or FAILED / CANCELLED / hang
    error: dict[str, Any] | None = None
    reason: str | None = None
    columns: list[tuple[str, str]] = field(default_factory=list)  # (name, duckdb type)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    scanned: int = 0
    polls: int = 0
    stopped: bool = False
    state: str = "QUEUED"


class AthenaFake(JsonFake):
    """Athena's query API and Glue's GetTable/GetPartitions over local CUR tables."""

    def __init__(
        self,
        tables: list[Table],
        *,
        workgroups: dict[str, str | None] | None = None,
        queued_polls: int = 0,
        running_polls: int = 1,
        denied_outputs: tuple[str, ...] = (),
        faults: Any = None,
        fault_operations: tuple[str, ...] = (),
    ) -> None:
        super().__init__(faults)
        self.fault_operations = fault_operations  # empty: faults may hit any operation
        self.tables = {(t.database, t.name): t for t in tables}
        # workgroup -> its own output location (None: the request must name one)
        self.workgroups = workgroups if workgroups is not None else {"primary": None}
        self.queued_polls = queued_polls
        self.running_polls = running_polls
        self.denied_outputs = denied_outputs
        self.script: list[str] = []
        self.executions: dict[str, Execution] = {}
        self._by_token: dict[str, str] = {}
        self._db_lock = threading.Lock()
        self._db = duckdb.connect(":memory:")
        self._db.execute("SET TimeZone = 'UTC'")
        self._db.execute("SET enable_progress_bar = false")
        self._db.execute("ATTACH ':memory:' AS awsdatacatalog")
        for database in {t.database for t in tables}:
            self._db.execute(f'CREATE SCHEMA awsdatacatalog."{database}"')
            self._db.execute(f'USE awsdatacatalog."{database}"')
            # Trino's element_at(map, key) is the value or NULL; DuckDB's is a list.
            self._db.execute("CREATE MACRO element_at(m, k) AS m[k]")
        for table in tables:
            glob = str(table.location / "**" / "*.parquet")
            self._db.execute(
                f'CREATE VIEW awsdatacatalog."{table.database}"."{table.name}" AS SELECT * FROM '
                f"read_parquet('{glob}', hive_partitioning = true, "
                "hive_types_autocast = false)"
            )

    # --- dispatch -----------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        call = call_of(request)
        if call is None:
            described = request.header("X-Amz-Target") or f"{request.method} {request.path}"
            return _wire(
                _protocol(request),
                _error(404, "UnknownOperationException", f"unknown operation {described!r}"),
            )
        return _wire(call.protocol, self._serve(request, call))

    def _serve(self, request: Request, call: Call) -> Reply:
        match = _AUTH.match(request.header("Authorization") or "")
        if not match or match["service"] != call.signing_name:
            return _error(
                400, "MissingAuthenticationTokenException", "Missing Authentication Token"
            )
        try:
            body = request.json()
        except ValueError:
            return _error(400, "SerializationException", "the body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "SerializationException", "the body is not a JSON object")
        handler = getattr(self, f"_{call.service}_{call.operation}", None)
        if handler is None:
            return _error(400, "UnknownOperationException", f"{call.operation} is not served here")
        return handler({**body, **call.bound})  # rest-json's path and query members too

    def eligible(self, request: Request) -> bool:
        """Faults can be aimed at operations (json 1.1 calls all share the path `/`)."""
        if not self.fault_operations:
            return super().eligible(request)
        call = call_of(request)
        return call is not None and call.operation in self.fault_operations

    def fault_reply(self, kind: str, request: Request) -> Reply:
        """Athena's own shapes: throttling is HTTP 400 with a code, faults are 500."""
        call = call_of(request)
        if kind.startswith("429"):
            if call is not None and call.operation == "StartQueryExecution":
                reply = _error(400, "TooManyRequestsException", "You have exceeded the limit")
                reply.body["Reason"] = "CONCURRENT_QUERY_LIMIT_EXCEEDED"
            else:
                reply = _error(400, "ThrottlingException", "Rate exceeded")
        elif kind == "500":
            reply = _error(500, "InternalServerException", "Internal error")
        else:
            reply = _error(int(kind), "ServiceUnavailable", "Service unavailable")
        return _wire(call.protocol if call else _protocol(request), reply)

    # --- Glue -----------------------------------------------------------------------------------
    def _table(self, body: dict[str, Any], key: str) -> Table | Reply:
        found = self.tables.get((body.get("DatabaseName"), body.get(key)))
        if found is None:
            return _error(400, "EntityNotFoundException", f"Table {body.get(key)} not found.")
        return found

    def _AWSGlue_GetTable(self, body: dict[str, Any]) -> Reply:
        table = self._table(body, "Name")
        if isinstance(table, Reply):
            return table
        with self._db_lock:
            described = self._db.execute(
                f'DESCRIBE awsdatacatalog."{table.database}"."{table.name}"'
            ).fetchall()
        keys = {k.lower() for k in table.partition_keys}
        columns = [
            {"Name": name, "Type": _hive_type(kind)}
            for name, kind, *_ in described
            if name.lower() not in keys
        ]
        return _ok(
            {
                "Table": {
                    "Name": table.name,
                    "DatabaseName": table.database,
                    "TableType": "EXTERNAL_TABLE",
                    "StorageDescriptor": {
                        "Columns": columns,
                        "Location": f"s3://cur-bucket/{table.location.name}/",
                    },
                    "PartitionKeys": [{"Name": k, "Type": "string"} for k in table.partition_keys],
                }
            }
        )

    def _AWSGlue_GetPartitions(self, body: dict[str, Any]) -> Reply:
        table = self._table(body, "TableName")
        if isinstance(table, Reply):
            return table
        limit = int(body.get("MaxResults") or MAX_RESULTS)
        if not 1 <= limit <= MAX_RESULTS:
            return _error(400, "InvalidInputException", "MaxResults must be 1..1000")
        values = sorted(
            {
                tuple(found[k.lower()] for k in table.partition_keys)
                for found, _ in table.files()
                if all(k.lower() in found for k in table.partition_keys)
            }
        )
        start = _offset(body.get("NextToken"), table.name)
        if start is None:
            return _error(400, "InvalidInputException", "bad NextToken")
        page = values[start : start + limit]
        answer: dict[str, Any] = {
            "Partitions": [
                {"Values": list(v), "DatabaseName": table.database, "TableName": table.name}
                for v in page
            ]
        }
        if start + limit < len(values):
            answer["NextToken"] = _token(table.name, start + limit)
        return _ok(answer)

    # --- Athena ---------------------------------------------------------------------------------
    def _AmazonAthena_StartQueryExecution(self, body: dict[str, Any]) -> Reply:
        sql = body.get("QueryString")
        if not isinstance(sql, str) or not 1 <= len(sql.encode()) <= 262144:
            return _invalid("QueryString must be 1..262144 bytes")
        token = body.get("ClientRequestToken")
        if not isinstance(token, str) or not 32 <= len(token) <= 128:
            return _invalid("ClientRequestToken must be 32..128 characters")
        with self._lock:
            if token in self._by_token:
                earlier = self.executions[self._by_token[token]]
                if earlier.request != body:
                    return _invalid("Idempotent parameters do not match")
                return _ok({"QueryExecutionId": earlier.id})
        workgroup = body.get("WorkGroup") or "primary"
        if workgroup not in self.workgroups:
            return _invalid(f"WorkGroup {workgroup} is not found.")
        output = (body.get("ResultConfiguration") or {}).get("OutputLocation") or self.workgroups[
            workgroup
        ]
        if not output:
            return _invalid(
                "No output location provided. An output location is required either through "
                "the Workgroup result configuration setting or as an API input."
            )
        params = body.get("ExecutionParameters") or []
        if not all(isinstance(p, str) and 1 <= len(p) <= 1024 for p in params):
            return _invalid("ExecutionParameters must be strings of 1..1024 characters")
        holes = len(_placeholders(sql))
        if holes != len(params):
            return _invalid(
                f"The query has {holes} parameter(s) but {len(params)} were given in "
                "ExecutionParameters"
            )
        execution = Execution(
            id=str(uuid.uuid4()),
            token=token,
            request=body,
            output=f"{output.rstrip('/')}/",
            submitted=time.time(),
        )
        with self._lock:
            scripted = self.script.pop(0) if self.script else None
        self._plan(execution, body, scripted)
        with self._lock:
            self.executions[execution.id] = execution
            self._by_token[token] = execution.id
        return _ok({"QueryExecutionId": execution.id})

    def _plan(self, execution: Execution, body: dict[str, Any], scripted: str | None) -> None:
        """Run the SQL now (or fail it), to be revealed over the next polls."""
        if scripted == "fail_retryable":
            execution.outcome = "FAILED"
            execution.error = _athena_error(
                1, 401, True, "GENERIC_INTERNAL_ERROR: a worker node was lost"
            )
            return
        if scripted in ("cancel", "hang"):
            execution.outcome = scripted
        if any(execution.output.startswith(p) for p in self.denied_outputs):
            execution.outcome = "FAILED"
            execution.error = _athena_error(
                2,
                1002,
                False,
                f"Access denied when writing output to url: {execution.output}{execution.id}.csv"
                " . Please ensure you are allowed to access the S3 bucket. If you are "
                "encrypting query results with KMS key, please ensure you are allowed to "
                "access your KMS key",
            )
            return
        context = body.get("QueryExecutionContext") or {}
        database = context.get("Database") or "default"
        catalog = (context.get("Catalog") or "AwsDataCatalog").lower()
        sql = body["QueryString"]
        params = body.get("ExecutionParameters") or []
        table = next(
            (t for (db, _), t in self.tables.items() if db == database and f'"{t.name}"' in sql),
            None,
        )
        problem = self._typed(sql, params, table)
        if problem:
            execution.outcome, execution.error = "FAILED", _athena_error(2, 1301, False, problem)
            return
        if catalog != "awsdatacatalog" or database not in {db for db, _ in self.tables}:
            execution.outcome = "FAILED"
            execution.error = _athena_error(
                2, 1301, False, f"SCHEMA_NOT_FOUND: line 1:1: Schema '{database}' does not exist"
            )
            return
        try:
            with self._db_lock:
                self._db.execute(f'USE awsdatacatalog."{database}"')
                cursor = self._db.execute(_duckdb_sql(sql, params))
                execution.columns = [(d[0], str(d[1])) for d in cursor.description]
                execution.rows = cursor.fetchall()
        except duckdb.CatalogException as exc:
            execution.outcome = "FAILED"
            name = re.search(r"with name (\S+) does not exist", str(exc))
            execution.error = _athena_error(
                2,
                1301,
                False,
                f"TABLE_NOT_FOUND: line 1:1: Table 'awsdatacatalog.{database}."
                f"{name[1] if name else '?'}' does not exist",
            )
            return
        except duckdb.BinderException as exc:
            column = re.search(r'column "([^"]+)" not found', str(exc), re.IGNORECASE)
            execution.outcome = "FAILED"
            execution.error = _athena_error(
                2,
                1301,
                False,
                f"COLUMN_NOT_FOUND: line 1:8: Column '{column[1] if column else '?'}' cannot be "
                "resolved or requester is not authorized to access requested resources",
            )
            return
        except duckdb.Error as exc:
            execution.outcome = "FAILED"
            execution.error = _athena_error(2, 1301, False, f"GENERIC_USER_ERROR: {exc}")
            return
        if table is not None:
            execution.scanned = _scanned(table, sql, params)

    def _typed(self, sql: str, params: list[str], table: Table | None) -> str | None:
        """Athena substitutes parameters as text: a string partition compared with an
        unquoted value is a type mismatch."""
        holes = _placeholders(sql)
        keys = {k.lower() for k in table.partition_keys} if table else set()
        for (column, _), value in zip(holes, params, strict=False):
            if column and column.lower() in keys and not _LITERAL.match(value):
                return (
                    f"TYPE_MISMATCH: line 1:1: Cannot apply operator: varchar = integer "
                    f"({column} = {value})"
                )
        return None

    def _execution(self, body: dict[str, Any]) -> Execution | Reply:
        found = self.executions.get(body.get("QueryExecutionId") or "")
        if found is None:
            return _invalid(f"QueryExecution {body.get('QueryExecutionId')} was not found")
        return found

    def _advance(self, execution: Execution) -> None:
        """One poll: QUEUED for `queued_polls`, RUNNING for `running_polls`, then the outcome."""
        if execution.state in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return
        execution.polls += 1
        if execution.polls <= self.queued_polls:
            execution.state = "QUEUED"
        elif execution.polls <= self.queued_polls + self.running_polls or (
            execution.outcome == "hang"
        ):
            execution.state = "RUNNING"
        elif execution.outcome == "cancel":
            execution.state = "CANCELLED"
            execution.reason = "Query cancelled by user"
        else:
            execution.state = execution.outcome

    def _AmazonAthena_GetQueryExecution(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            execution = self._execution(body)
            if isinstance(execution, Reply):
                return execution
            self._advance(execution)
            return _ok({"QueryExecution": self._describe(execution)})

    def _describe(self, execution: Execution) -> dict[str, Any]:
        request = execution.request
        status: dict[str, Any] = {
            "State": execution.state,
            "SubmissionDateTime": execution.submitted,
        }
        if execution.state in ("SUCCEEDED", "FAILED", "CANCELLED"):
            status["CompletionDateTime"] = execution.submitted + 1.0
        if execution.state == "FAILED" and execution.error:
            status["StateChangeReason"] = execution.error["ErrorMessage"]
            status["AthenaError"] = execution.error
        if execution.state == "CANCELLED":
            status["StateChangeReason"] = execution.reason or "Query cancelled by user"
        scanned = execution.scanned if execution.state != "QUEUED" else 0
        return {
            "QueryExecutionId": execution.id,
            "Query": request["QueryString"],
            "StatementType": "DML",
            "ResultConfiguration": {"OutputLocation": f"{execution.output}{execution.id}.csv"},
            "QueryExecutionContext": request.get("QueryExecutionContext") or {},
            "Status": status,
            "Statistics": {
                "DataScannedInBytes": scanned,
                "EngineExecutionTimeInMillis": 800,
                "TotalExecutionTimeInMillis": 1000,
            },
            "WorkGroup": request.get("WorkGroup") or "primary",
        }

    def _AmazonAthena_StopQueryExecution(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            execution = self._execution(body)
            if isinstance(execution, Reply):
                return execution
            execution.stopped = True
            if execution.state in ("QUEUED", "RUNNING"):
                execution.state = "CANCELLED"
                execution.reason = "Query cancelled by user"
        return _ok({})

    def _AmazonAthena_GetQueryResults(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            execution = self._execution(body)
        if isinstance(execution, Reply):
            return execution
        if execution.state != "SUCCEEDED":
            return _invalid(f"Query has not yet finished. Current state: {execution.state}")
        limit = body.get("MaxResults", MAX_RESULTS)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_RESULTS:
            return _invalid("MaxResults must be between 1 and 1000")
        start = _offset(body.get("NextToken"), execution.id)
        if start is None:
            return _invalid("NextToken is invalid")
        # Row 0 is the header row: the column names, as the first row of the first page.
        header = [{"VarCharValue": name} for name, _ in execution.columns]
        kinds = [kind for _, kind in execution.columns]
        rows: list[dict[str, Any]] = []
        for index in range(start, min(start + limit, len(execution.rows) + 1)):
            if index == 0:
                rows.append({"Data": header})
            else:
                values = execution.rows[index - 1]
                rows.append({"Data": [_datum(v, k) for v, k in zip(values, kinds, strict=True)]})
        answer: dict[str, Any] = {
            "UpdateCount": 0,
            "ResultSet": {
                "Rows": rows,
                "ResultSetMetadata": {
                    "ColumnInfo": [_column_info(n, k) for n, k in execution.columns]
                },
            },
        }
        if start + limit < len(execution.rows) + 1:
            answer["NextToken"] = _token(execution.id, start + limit)
        return _ok(answer)

    # --- for tests and benchmarks -------------------------------------------------------------
    def operations(self, name: str) -> list[Request]:
        """Requests for one operation (e.g. `StartQueryExecution`) in either protocol, in
        arrival order. A rest-json request's path and query members are not in its body:
        `arguments(request)` has them all."""
        return [r for r in self.requests if (call := call_of(r)) and call.operation == name]

    def arguments(self, request: Request) -> dict[str, Any]:
        """The operation's members as the handlers take them, whichever the protocol."""
        call = call_of(request)
        return {**request.json(), **(call.bound if call else {})}

    def protocols(self) -> dict[str, set[str]]:
        """The protocols each service was called in, by SigV4 name: for example
        `{"athena": {"rest-json"}, "glue": {"json"}}`."""
        found: dict[str, set[str]] = {}
        for request in self.requests:
            call = call_of(request)
            if call is not None and call.signing_name:
                found.setdefault(call.signing_name, set()).add(call.protocol)
        return found

    def started(self) -> list[Execution]:
        """Executions in the order they were started."""
        return sorted(self.executions.values(), key=lambda e: e.submitted)


# --- CUR files laid out as Athena tables -------------------------------------------------------
def write_legacy_athena_cur(
    root: Path,
    items: list[LineItem],
    *,
    assembly_id: str = "asm-0001",
    report: str = "daily",
    prefix: str = "cur",
    chunk_rows: int = 200,
    s3_bucket: str = "cur-bucket",
) -> Path:
    """A legacy CUR as AWS's Athena integration delivers it: overwrite mode, Parquet,
    `<prefix>/<report>/<report>/year=YYYY/month=M/` with the manifest beside the data,
    snake_case columns typed as AWS types them (amounts double, dates timestamp). Returns the
    table's location (the folder holding `year=`)."""
    location = root / prefix / report / report
    by_period: dict[str, list[LineItem]] = {}
    for item in items:
        by_period.setdefault(item.period, []).append(item)
    for period, period_items in sorted(by_period.items()):
        year, month = (int(p) for p in period.split("-"))
        folder = location / f"year={year}" / f"month={month}"
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.parquet"):
            stale.unlink()  # overwrite mode: the delivery replaces the period's files
        rows = [_typed_legacy(legacy_row(item, n)) for n, item in enumerate(period_items)]
        keys = []
        for number in range(0, len(rows), chunk_rows):
            name = f"{report}-{number // chunk_rows + 1:05d}.snappy.parquet"
            (folder / name).write_bytes(encode_parquet(rows[number : number + chunk_rows]))
            keys.append(f"{prefix}/{report}/{report}/year={year}/month={month}/{name}")
        start = date(year, month, 1)
        end = (start + timedelta(days=32)).replace(day=1)
        (folder / f"{report}-Manifest.json").write_text(
            json.dumps(
                {
                    "assemblyId": assembly_id,
                    "account": PAYER,
                    "reportName": report,
                    "bucket": s3_bucket,
                    "compression": "Parquet",
                    "contentType": "Parquet",
                    "billingPeriod": {
                        "start": f"{start:%Y%m%d}T000000.000Z",
                        "end": f"{end:%Y%m%d}T000000.000Z",
                    },
                    "columns": [
                        {"category": h.split("/")[0], "name": h.split("/", 1)[1]}
                        for h in LEGACY_HEADERS
                    ],
                    "reportKeys": keys,
                    "additionalArtifactKeys": [],
                }
            )
        )
    return location


def write_status_table(root: Path, database: str, status: str) -> Table:
    """The legacy integration's `cost_and_usage_data_status` table (one row, READY or
    UPDATING) under `root`, beside the report folder as AWS keeps it."""
    location = root / "cost_and_usage_data_status"
    location.mkdir(parents=True, exist_ok=True)
    (location / "status.snappy.parquet").write_bytes(encode_parquet([{"status": status}]))
    return Table(database, "cost_and_usage_data_status", location, ())


_LEGACY_TIMESTAMPS = ("lineItem/UsageStartDate", "lineItem/UsageEndDate")


def _typed_legacy(row: dict[str, str]) -> dict[str, Any]:
    typed: dict[str, Any] = {}
    for header, value in row.items():
        if header in _LEGACY_TIMESTAMPS:
            typed[snake(header)] = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(
                UTC
            )
        elif header in CUR2_DOUBLES:
            typed[snake(header)] = float(value) if value else None
        else:
            typed[snake(header)] = value
    return typed


# --- helpers ---------------------------------------------------------------------------------
def _ok(body: dict[str, Any]) -> Reply:
    return Reply(200, body)


def _error(status: int, code: str, message: str) -> Reply:
    """An error as the handlers build it (json 1.1's shape); `_wire` shapes it per protocol."""
    return Reply(status, {"__type": code, "Message": message})


def _protocol(request: Request) -> str:
    """The protocol a request that names no known operation was sent in."""
    return "json" if request.header("X-Amz-Target") is not None else "rest-json"


def _wire(protocol: str, reply: Reply) -> Reply:
    """The reply as `protocol` sends it. json 1.1: the error code is the body's `__type`.
    rest-json: it is the `x-amzn-ErrorType` header and the body holds the error's members
    (`Message`, `AthenaErrorCode`, `Reason`), which botocore's RestJSONParser reads as its
    JSONParser reads the json 1.1 body: the same code, message and members."""
    body = dict(reply.body or {})
    if protocol == "json":
        return Reply(reply.status, body, {"Content-Type": JSON_11, **reply.headers})
    headers = {"Content-Type": REST_JSON, **reply.headers}
    code = body.pop("__type", None) if reply.status >= 300 else None
    if code is not None:
        headers["x-amzn-ErrorType"] = code
    return Reply(reply.status, body, headers)


def _invalid(message: str) -> Reply:
    reply = _error(400, "InvalidRequestException", message)
    reply.body["AthenaErrorCode"] = "INVALID_INPUT"
    return reply


def _athena_error(category: int, kind: int, retryable: bool, message: str) -> dict[str, Any]:
    return {
        "ErrorCategory": category,
        "ErrorType": kind,
        "Retryable": retryable,
        "ErrorMessage": message,
    }


def _token(scope: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{scope}\0{offset}".encode()).decode()


def _offset(token: str | None, scope: str) -> int | None:
    if token is None:
        return 0
    try:
        found, _, offset = base64.urlsafe_b64decode(token.encode()).decode().partition("\0")
        return int(offset) if found == scope else None
    except (ValueError, UnicodeDecodeError):
        return None


def _placeholders(sql: str) -> list[tuple[str | None, int]]:
    """(column compared with it, position) of each `?` outside string literals."""
    found: list[tuple[str | None, int]] = []
    quoted = False
    for index, char in enumerate(sql):
        if char == "'":
            quoted = not quoted
        elif char == "?" and not quoted:
            before = _COMPARED.search(sql[max(0, index - 300) : index + 1])
            column = before[1].replace('""', '"') if before else None
            found.append((column, index))
    return found


def _duckdb_sql(sql: str, params: list[str]) -> str:
    """The Trino text as DuckDB runs it: parameters substituted as Athena does (as text)."""
    pieces = []
    values = iter(params)
    last = 0
    for _, index in _placeholders(sql):
        pieces.append(sql[last:index])
        pieces.append(next(values))
        last = index + 1
    pieces.append(sql[last:])
    text = "".join(pieces)
    # Trino casts a double to decimal through Double.toString, DuckDB through its binary value.
    return _CAST_DECIMAL.sub(r"CAST(CAST(\1 AS VARCHAR) AS DECIMAL(38,18))", text)


def _scanned(table: Table, sql: str, params: list[str]) -> int:
    """Bytes Athena would scan: the referenced columns' chunks in the partitions selected."""
    wanted: dict[str, str] = {}
    for (column, _), value in zip(_placeholders(sql), params, strict=False):
        if column and _LITERAL.match(value):
            wanted[column.lower()] = value[1:-1].replace("''", "'")
    referenced = {name.replace('""', '"').lower() for name in re.findall(r'"((?:[^"]|"")+)"', sql)}
    total = 0
    for values, path in table.files():
        if any(values.get(k) != v for k, v in wanted.items() if k in values):
            continue
        metadata = pq.ParquetFile(path).metadata
        for group in range(metadata.num_row_groups):
            row_group = metadata.row_group(group)
            for column in range(row_group.num_columns):
                chunk = row_group.column(column)
                if chunk.path_in_schema.split(".")[0].lower() in referenced:
                    total += chunk.total_compressed_size
    return total


def _hive_type(kind: str) -> str:
    upper = kind.upper()
    if upper.startswith("MAP("):
        return "map<string,string>"
    if upper.startswith("TIMESTAMP"):
        return "timestamp"
    return {"VARCHAR": "string", "DOUBLE": "double", "BIGINT": "bigint", "DATE": "date"}.get(
        upper, "string"
    )


def _athena_type(kind: str) -> tuple[str, int, int]:
    upper = kind.upper()
    if upper.startswith("DECIMAL"):
        precision, scale = (int(p) for p in re.findall(r"\d+", upper)[:2])
        return "decimal", precision, scale
    return (
        {"DATE": "date", "DOUBLE": "double", "BIGINT": "bigint", "HUGEINT": "bigint"}.get(
            upper, "varchar"
        ),
        {"DATE": 10, "DOUBLE": 17, "BIGINT": 19}.get(upper, 2147483647),
        0,
    )


def _column_info(name: str, kind: str) -> dict[str, Any]:
    athena, precision, scale = _athena_type(kind)
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": athena,
        "Precision": precision,
        "Scale": scale,
        "Nullable": "UNKNOWN",
        "CaseSensitive": athena == "varchar",
    }


def _datum(value: Any, kind: str) -> dict[str, str]:
    """One value as Athena writes it: text, decimals at full scale, `{}` for NULL."""
    if value is None:
        return {}
    if isinstance(value, Decimal):
        _, _, scale = _athena_type(kind)
        return {"VarCharValue": f"{value.quantize(Decimal(1).scaleb(-scale)):f}"}
    if isinstance(value, date | datetime):
        return {"VarCharValue": value.isoformat()}
    if isinstance(value, float):
        return {"VarCharValue": repr(value)}
    return {"VarCharValue": str(value)}
