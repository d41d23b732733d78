"""Local fake of the AWS Sustainability API (`GetEstimatedCarbonEmissions`, `…WaterAllocation`).

It follows the botocore service model (rest-json, 2018-05-10): request keys, enums and limits are
read from the model itself, errors use the `x-amzn-ErrorType` header and a `{"message": ...}` body,
paging uses an opaque `NextToken` bound to the request that produced it, and a month is returned
only when the requested range contains its first day (a year: its 1 January). It is configured
with data — one row per month (carbon) or calendar year (water) x usage account x region x
service, in the API's own result shape — and aggregates those rows the way the real service does
for whatever `GroupBy` it is asked for.

Run it alone (for the demo) with
`python -m tests.fakes.aws_sustainability --data FILE [--water-data FILE]`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.fakes._http import FAULT_KINDS, Faults, JsonFake, Reply, Request

_MODEL = botocore.session.get_session().get_service_model("sustainability")
_OP = _MODEL.operation_model("GetEstimatedCarbonEmissions")
_INPUT = _OP.input_shape.members
EMISSIONS_TYPES: list[str] = list(_INPUT["EmissionsTypes"].member.enum)
DIMENSIONS: list[str] = list(_INPUT["GroupBy"].member.enum)
GRANULARITIES: list[str] = list(_INPUT["Granularity"].enum)
DEFAULT_TYPES = ["TOTAL_LBM_CARBON_EMISSIONS", "TOTAL_MBM_CARBON_EMISSIONS"]
MAX_RESULTS_LIMIT = _INPUT["MaxResults"].metadata["max"]
DEFAULT_MAX_RESULTS = 1000
_WATER_OP = _MODEL.operation_model("GetEstimatedWaterAllocation")
_WATER_INPUT = _WATER_OP.input_shape.members
WATER_ALLOCATION_TYPES: list[str] = list(_WATER_INPUT["AllocationTypes"].member.enum)
WATER_UNITS: list[str] = list(
    _WATER_OP.output_shape.members["Results"]
    .member.members["AllocationValues"]
    .value.members["Unit"]
    .enum
)
_ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/[\w+=,.@/-]+$")
_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<sig>[0-9a-f]{64})$"
)


class _ResultRow:
    """What carbon and water rows share: three dimensions, a period and typed values.

    Subclasses are frozen dataclasses with `account`, `region`, `service`, `model_version` and
    `values` ({type: (value, unit)}), and say which period they cover and under which key the
    API reports their values.
    """

    VALUES_KEY: ClassVar[str]
    account: str
    region: str
    service: str
    model_version: str
    values: dict[str, tuple[float, str]]

    @property
    def period_start(self) -> date:
        raise NotImplementedError

    @property
    def period_end(self) -> date:
        raise NotImplementedError

    def dimension(self, name: str) -> str:
        return {"USAGE_ACCOUNT_ID": self.account, "REGION": self.region, "SERVICE": self.service}[
            name
        ]

    def to_result(self) -> dict[str, Any]:
        """The row as one item of the API's answer, ungrouped (every dimension present)."""
        return result_item(
            self.period_start,
            self.period_end,
            {d: self.dimension(d) for d in DIMENSIONS},
            self.model_version,
            self.VALUES_KEY,
            self.values,
        )

    @classmethod
    def from_result(cls, item: dict[str, Any]) -> _ResultRow:
        raise NotImplementedError

    @classmethod
    def _fields_from_result(cls, item: dict[str, Any]) -> tuple[date, dict[str, Any]]:
        dims = item["DimensionsValues"]
        start = datetime.fromisoformat(item["TimePeriod"]["Start"].replace("Z", "+00:00"))
        return start.date(), {
            "account": dims["USAGE_ACCOUNT_ID"],
            "region": dims["REGION"],
            "service": dims["SERVICE"],
            "model_version": item["ModelVersion"],
            "values": {k: (v["Value"], v["Unit"]) for k, v in item[cls.VALUES_KEY].items()},
        }


@dataclass(frozen=True)
class EmissionRow(_ResultRow):
    """One month x usage account x region x service, as the API reports it at its finest grain."""

    VALUES_KEY: ClassVar[str] = "EmissionsValues"
    month: date
    account: str
    region: str
    service: str
    model_version: str
    values: dict[str, tuple[float, str]]  # emissions type -> (value, unit)

    @classmethod
    def from_result(cls, item: dict[str, Any]) -> EmissionRow:
        start, fields = cls._fields_from_result(item)
        return cls(month=start.replace(day=1), **fields)

    @property
    def period_start(self) -> date:
        return self.month

    @property
    def period_end(self) -> date:
        return date(self.month.year + self.month.month // 12, self.month.month % 12 + 1, 1)


@dataclass(frozen=True)
class WaterRow(_ResultRow):
    """One calendar year x usage account x region x service (`GetEstimatedWaterAllocation`)."""

    VALUES_KEY: ClassVar[str] = "AllocationValues"
    year_start: date
    account: str
    region: str
    service: str
    model_version: str
    values: dict[str, tuple[float, str]]  # allocation type -> (value, unit), e.g. (12.5, "m3")

    @classmethod
    def from_result(cls, item: dict[str, Any]) -> WaterRow:
        start, fields = cls._fields_from_result(item)
        return cls(year_start=start.replace(month=1, day=1), **fields)

    @property
    def period_start(self) -> date:
        return self.year_start

    @property
    def period_end(self) -> date:
        return date(self.year_start.year + 1, 1, 1)


def result_item(
    start: date,
    end: date,
    dims: dict[str, str],
    model_version: str,
    values_key: str,
    values: dict[str, tuple[float, str]],
) -> dict[str, Any]:
    """One result item in the API's wire shape (what both operations answer with)."""
    return {
        "TimePeriod": {"Start": f"{start}T00:00:00Z", "End": f"{end}T00:00:00Z"},
        "DimensionsValues": dims,
        "ModelVersion": model_version,
        values_key: {kind: {"Value": v, "Unit": unit} for kind, (v, unit) in values.items()},
    }


def load_rows(path: Path, row_type: type[_ResultRow] = EmissionRow) -> list[Any]:
    """Rows from a JSON Lines file of API result items (the demo's sample data format)."""
    with path.open() as handle:
        return [row_type.from_result(json.loads(line)) for line in handle if line.strip()]


@dataclass(frozen=True)
class _Operation:
    """What differs between the two data operations; everything else the fake serves alike."""

    name: str
    input: dict[str, Any]  # the model's input members
    types_key: str  # EmissionsTypes / AllocationTypes
    types: list[str]
    default_types: list[str]
    granularity: str  # the one granularity served
    granularity_refusal: str
    rows_attr: str  # the fake's attribute holding this operation's rows
    row_type: type[_ResultRow]


OPERATIONS: dict[str, _Operation] = {
    "/v1/estimated-carbon-emissions": _Operation(
        name="GetEstimatedCarbonEmissions",
        input=dict(_INPUT),
        types_key="EmissionsTypes",
        types=EMISSIONS_TYPES,
        default_types=DEFAULT_TYPES,
        granularity="MONTHLY",
        granularity_refusal="This fake serves MONTHLY granularity only",
        rows_attr="rows",
        row_type=EmissionRow,
    ),
    "/v1/estimated-water-allocation": _Operation(
        name="GetEstimatedWaterAllocation",
        input=dict(_WATER_INPUT),
        types_key="AllocationTypes",
        types=WATER_ALLOCATION_TYPES,
        default_types=["TOTAL_WATER_WITHDRAWALS"],
        granularity="YEARLY_CALENDAR",
        # The model: "Only YEARLY_CALENDAR time granularity is currently supported for water".
        granularity_refusal="Only YEARLY_CALENDAR time granularity is currently supported for "
        "water allocation",
        rows_attr="water_rows",
        row_type=WaterRow,
    ),
}


# How paging ends (`paging=`, `--paging`): "normal"; "cycle", the last page's NextToken is the
# one that led to the second page again (A -> B -> A, a cycle longer than botocore's check of
# the previous token; needs three pages or more); "endless_empty", past the last page every
# page is empty and points at the next one with a token never sent before.
PAGING = ("normal", "cycle", "endless_empty")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.reply = Reply(
            status,
            {"message": message},
            {"x-amzn-ErrorType": code, **(headers or {})},
        )


@dataclass
class ScriptedFaults:
    """Scripted failures, consumed one per request before the request is served."""

    queue: list[Reply] = field(default_factory=list)
    deny_access: bool = False
    deny_assume_role: bool = False  # STS refuses AssumeRole, as a missing trust or grant does


@dataclass(frozen=True)
class SessionCredentials:
    """Temporary credentials the fake's STS issued for an assumed role."""

    access_key: str
    secret: str
    token: str
    expires: datetime


STS_PATH = "/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
# botocore refreshes temporary credentials once fewer than 15 minutes are left (its "advisory"
# window) and refuses refreshed ones with fewer than 10 left, so STS's own minimum lifetime
# (900 s) plus a few seconds makes the client refresh every few seconds, and never too late.
BOTOCORE_ADVISORY_REFRESH = timedelta(minutes=15)
# Every secret key and session token the fake's STS issues carries one of these, so the
# session-end secret scan (tests/conftest.py) catches any of them in any output.
ROLE_SECRET_MARKER = "StsRoleSecretKey"
ROLE_TOKEN_MARKER = "StsRoleSessionToken"


class SustainabilityFake(JsonFake):
    """The Sustainability API and, for assumed roles, STS `AssumeRole`.

    Fault mode (`faults=`, `--faults`): throttling answers `ThrottlingException` (with
    `x-amz-retry-after` in milliseconds for `429_retry_after`), 500 `InternalServerException`,
    502 without an error type (a front end's), 503 `ServiceUnavailableException`. AWS has no
    bearer token to revoke: `expired_token` makes the fake's STS issue role credentials that
    botocore must refresh within seconds, and calls signed with expired ones are refused with
    `ExpiredTokenException`.
    """

    fault_paths = (r"^/v1/",)
    per_request_kinds = tuple(k for k in FAULT_KINDS if k != "expired_token")

    def __init__(
        self,
        rows: Iterable[EmissionRow] = (),
        *,
        water_rows: Iterable[WaterRow] = (),
        page_size_cap: int | None = None,
        credentials: dict[str, str] | None = None,
        signing_region: str = "us-east-1",
        faults: Faults | None = None,
        role_lifetime: timedelta = timedelta(hours=1),
        short_role_lifetime: timedelta = BOTOCORE_ADVISORY_REFRESH + timedelta(seconds=2),
        paging: str = "normal",
    ) -> None:
        super().__init__(faults)
        if paging not in PAGING:
            raise ValueError(f"unknown paging {paging!r}; known: {PAGING}")
        self.paging = paging  # see PAGING
        self.rows = list(rows)
        self.water_rows = list(water_rows)
        self.page_size_cap = page_size_cap
        self.credentials = credentials
        self.signing_region = signing_region
        self.faults = ScriptedFaults()
        self.role_lifetime = role_lifetime
        self.short_role_lifetime = short_role_lifetime
        self.sessions: dict[str, SessionCredentials] = {}  # access key id -> issued credentials
        self._fault_lock = threading.Lock()

    # --- test controls -------------------------------------------------------------------
    def throttle_next(self, count: int = 1, *, retry_after_ms: int | None = None) -> None:
        headers = {} if retry_after_ms is None else {"x-amz-retry-after": str(retry_after_ms)}
        self._queue(count, 429, "ThrottlingException", "Rate exceeded", headers)

    def fail_next(self, count: int = 1, *, status: int = 500) -> None:
        self._queue(count, status, "InternalServerException", "Internal server error")

    def _queue(self, count: int, status: int, code: str, message: str, headers=None) -> None:
        with self._fault_lock:
            self.faults.queue.extend(
                ApiError(status, code, message, headers).reply for _ in range(count)
            )

    def carbon_requests(self) -> list[dict[str, Any]]:
        """The bodies of the GetEstimatedCarbonEmissions calls the fake answered or refused."""
        return self._requests_to("GetEstimatedCarbonEmissions")

    def water_requests(self) -> list[dict[str, Any]]:
        """The bodies of the GetEstimatedWaterAllocation calls the fake answered or refused."""
        return self._requests_to("GetEstimatedWaterAllocation")

    def _requests_to(self, operation: str) -> list[dict[str, Any]]:
        return [
            r.json()
            for r in self.requests
            if r.path in OPERATIONS and OPERATIONS[r.path].name == operation
        ]

    def sts_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path == STS_PATH]

    # --- fault mode ---------------------------------------------------------------------
    def fault_reply(self, kind: str, request: Request) -> Reply:
        if kind == "429":
            return ApiError(429, "ThrottlingException", "Rate exceeded").reply
        if kind == "429_retry_after":
            wait_ms = str(round(self.fault_mode.retry_after_seconds * 1000))
            return ApiError(
                429, "ThrottlingException", "Rate exceeded", {"x-amz-retry-after": wait_ms}
            ).reply
        if kind == "500":
            return ApiError(500, "InternalServerException", "Internal server error").reply
        if kind == "502":
            return Reply(502, {"message": "Bad Gateway"})
        return ApiError(503, "ServiceUnavailableException", "Service is unavailable").reply

    # --- protocol -----------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        if request.path == STS_PATH and request.method == "POST":
            return self._sts(request)
        try:
            operation = OPERATIONS.get(request.path)
            if operation is None or request.method != "POST":
                raise ApiError(404, "UnknownOperationException", f"No operation at {request.path}")
            self._check_signature(request, "sustainability")
            with self._fault_lock:
                if self.faults.queue:
                    return self.faults.queue.pop(0)
            if self.faults.deny_access:
                raise ApiError(
                    403,
                    "AccessDeniedException",
                    f"User is not authorized to perform: sustainability:{operation.name}",
                )
            try:
                body = request.json()
            except ValueError as exc:
                raise ApiError(400, "SerializationException", "Body is not valid JSON") from exc
            return Reply(200, self._serve(operation, body))
        except ApiError as err:
            return err.reply

    def _check_signature(self, request: Request, service: str) -> None:
        auth = request.header("Authorization") or ""
        match = _AUTH_RE.match(auth)
        if not match or not request.header("X-Amz-Date"):
            raise ApiError(403, "UnrecognizedClientException", "Missing or malformed signature")
        if match["service"] != service:
            raise ApiError(
                403, "InvalidSignatureException", "Credential scope names another service"
            )
        session = self.sessions.get(match["key"])
        if session is not None:
            if request.header("X-Amz-Security-Token") != session.token:
                raise ApiError(403, "UnrecognizedClientException", "The security token is invalid")
            if datetime.now(UTC) >= session.expires:
                raise ApiError(
                    403,
                    "ExpiredTokenException",
                    "The security token included in the request is expired",
                )
            secret = session.secret
        elif self.credentials is None:
            return
        else:
            secret = self.credentials.get(match["key"])
        if secret is None:
            raise ApiError(403, "UnrecognizedClientException", "The security token is invalid")
        signed = match["signed"].split(";")
        aws_request = AWSRequest(
            method=request.method,
            url=f"http://{request.header('Host')}{request.path}",
            data=request.body,
            headers={name: request.header(name) for name in signed},
        )
        aws_request.context["timestamp"] = request.header("X-Amz-Date")
        signer = SigV4Auth(Credentials(match["key"], secret), service, match["region"])
        expected = signer.signature(
            signer.string_to_sign(aws_request, signer.canonical_request(aws_request)), aws_request
        )
        if expected != match["sig"]:
            raise ApiError(403, "InvalidSignatureException", "The request signature does not match")

    def _sts(self, request: Request) -> Reply:
        """STS `AssumeRole` (query protocol, XML answers), signed by the base credentials."""
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        try:
            if form.get("Action") != "AssumeRole" or form.get("Version") != "2011-06-15":
                raise ApiError(400, "InvalidAction", "This fake's STS serves AssumeRole only")
            self._check_signature(request, "sts")
            role = form.get("RoleArn", "")
            name = form.get("RoleSessionName", "")
            if not _ROLE_ARN.match(role) or not 2 <= len(name) <= 64:
                raise ApiError(400, "ValidationError", "RoleArn or RoleSessionName is invalid")
            if self.faults.deny_assume_role:
                raise ApiError(
                    403,
                    "AccessDenied",
                    f"User: arn:aws:iam::123456789012:user/tap is not authorized to perform: "
                    f"sts:AssumeRole on resource: {role}",
                )
        except ApiError as err:
            code = err.reply.headers["x-amzn-ErrorType"]
            message = err.reply.body["message"]
            return Reply(
                err.reply.status,
                _xml(
                    f'<ErrorResponse xmlns="{STS_NS}"><Error><Type>Sender</Type>'
                    f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
                    f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
                ),
                {"Content-Type": "text/xml"},
            )
        lifetime = self.short_role_lifetime if self.expiring_tokens else self.role_lifetime
        issued = SessionCredentials(
            access_key="ASIA" + uuid.uuid4().hex[:16].upper(),
            secret=ROLE_SECRET_MARKER + base64.b64encode(uuid.uuid4().bytes * 2).decode()[:24],
            token="FQoGZXIvYXdzE" + ROLE_TOKEN_MARKER + uuid.uuid4().hex + uuid.uuid4().hex,
            expires=(datetime.now(UTC) + lifetime).replace(microsecond=0),
        )
        with self._fault_lock:
            self.sessions[issued.access_key] = issued
        account, role_name = role.split(":")[4], role.rsplit("/", 1)[1]
        return Reply(
            200,
            _xml(
                f'<AssumeRoleResponse xmlns="{STS_NS}"><AssumeRoleResult>'
                f"<AssumedRoleUser><AssumedRoleId>AROA{account}:{escape(name)}</AssumedRoleId>"
                f"<Arn>arn:aws:sts::{account}:assumed-role/{role_name}/{escape(name)}</Arn>"
                "</AssumedRoleUser><Credentials>"
                f"<AccessKeyId>{issued.access_key}</AccessKeyId>"
                f"<SecretAccessKey>{issued.secret}</SecretAccessKey>"
                f"<SessionToken>{issued.token}</SessionToken>"
                f"<Expiration>{issued.expires:%Y-%m-%dT%H:%M:%SZ}</Expiration>"
                "</Credentials><PackedPolicySize>0</PackedPolicySize></AssumeRoleResult>"
                f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
                "</AssumeRoleResponse>"
            ),
            {"Content-Type": "text/xml"},
        )

    def _serve(self, operation: _Operation, body: dict[str, Any]) -> dict[str, Any]:
        """Validate a request against the operation's model, then answer one page of it."""
        model = operation.input
        unknown = set(body) - set(model)
        if unknown:
            raise ApiError(400, "SerializationException", f"Unknown keys: {sorted(unknown)}")
        start, end = _time_period(body.get("TimePeriod"))
        dimensions = list(model["GroupBy"].member.enum)
        group_by = body.get("GroupBy", [])
        _check_members("GroupBy", group_by, dimensions)
        types = body.get(operation.types_key) or operation.default_types
        _check_members(operation.types_key, types, operation.types)
        granularity = body.get("Granularity", operation.granularity)
        if granularity not in model["Granularity"].enum:
            raise ApiError(400, "ValidationException", f"Invalid Granularity {granularity!r}")
        if granularity != operation.granularity:
            raise ApiError(400, "ValidationException", operation.granularity_refusal)
        limit = model["MaxResults"].metadata
        max_results = body.get("MaxResults", DEFAULT_MAX_RESULTS)
        if not isinstance(max_results, int) or not limit["min"] <= max_results <= limit["max"]:
            raise ApiError(
                400, "ValidationException", f"MaxResults must be {limit['min']}..{limit['max']}"
            )
        filters = (body.get("FilterBy") or {}).get("Dimensions", {})
        _check_members("FilterBy", list(filters), dimensions)

        rows = getattr(self, operation.rows_attr)
        results = _aggregate(rows, operation.row_type, start, end, group_by, types, filters)
        request_hash = _request_hash(operation.name, body)
        offset = _read_token(body.get("NextToken"), request_hash)
        page = min(max_results, self.page_size_cap or max_results)
        answer: dict[str, Any] = {"Results": results[offset : offset + page]}
        if offset + page < len(results):
            answer["NextToken"] = _make_token(offset + page, request_hash)
        elif self.paging == "cycle" and offset > page:
            answer["NextToken"] = _make_token(page, request_hash)  # back to the second page
        elif self.paging == "endless_empty":
            answer["NextToken"] = _make_token(offset + page, request_hash)  # past the end
        return answer


def _aggregate(
    rows: list[_ResultRow], row_type: type[_ResultRow], start, end, group_by, types, filters
) -> list[dict[str, Any]]:
    """Sum rows per period x requested dimensions, as the service does for a `GroupBy`.

    A period (month or calendar year) is included only when [start, end) contains its first day.
    """
    groups: dict[tuple, dict[str, Any]] = {}
    sums: dict[tuple, dict[str, list]] = defaultdict(dict)
    for row in rows:
        first = row.period_start
        if not start <= datetime(first.year, first.month, first.day, tzinfo=UTC) < end:
            continue
        if any(row.dimension(d) not in allowed for d, allowed in filters.items()):
            continue
        key = (first, *(row.dimension(d) for d in group_by))
        group = groups.setdefault(
            key,
            {
                "row": row,
                "dims": {d: row.dimension(d) for d in group_by},
                "model": row.model_version,
            },
        )
        group["model"] = max(group["model"], row.model_version)
        for kind in types:
            if kind in row.values:
                value, unit = row.values[kind]
                acc = sums[key].setdefault(kind, [0.0, unit])
                acc[0] += value
    results = []
    for key in sorted(groups):
        group = groups[key]
        results.append(
            result_item(
                group["row"].period_start,
                group["row"].period_end,
                group["dims"],
                group["model"],
                row_type.VALUES_KEY,
                {kind: (round(v, 6), unit) for kind, (v, unit) in sums[key].items()},
            )
        )
    return results


def _time_period(period: Any) -> tuple[datetime, datetime]:
    if not isinstance(period, dict) or not {"Start", "End"} <= set(period):
        raise ApiError(400, "ValidationException", "TimePeriod with Start and End is required")
    try:
        start, end = (
            datetime.fromisoformat(str(period[k]).replace("Z", "+00:00")) for k in ("Start", "End")
        )
    except ValueError as exc:
        raise ApiError(400, "ValidationException", "TimePeriod values must be ISO 8601") from exc
    if start.tzinfo is None or end.tzinfo is None:
        raise ApiError(400, "ValidationException", "TimePeriod values must carry a time zone")
    if start >= end:
        raise ApiError(400, "ValidationException", "TimePeriod Start must be before End")
    return start, end


def _xml(text: str) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text.encode()


def _check_members(name: str, values: Any, allowed: list[str]) -> None:
    if not isinstance(values, list) or any(v not in allowed for v in values):
        raise ApiError(400, "ValidationException", f"Invalid {name}: allowed values are {allowed}")
    if len(set(values)) != len(values):
        raise ApiError(400, "ValidationException", f"Duplicate values in {name}")


def _request_hash(operation: str, body: dict[str, Any]) -> str:
    """Binds a NextToken to one operation and request (paging keys aside)."""
    stable = {k: v for k, v in body.items() if k not in {"NextToken", "MaxResults"}}
    stable["__operation__"] = operation
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:16]


def _make_token(offset: int, request_hash: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, request_hash]).encode()).decode()


def _read_token(token: str | None, request_hash: str) -> int:
    if token is None:
        return 0
    try:
        offset, bound_to = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError as exc:
        raise ApiError(400, "ValidationException", "Invalid NextToken") from exc
    if bound_to != request_hash:
        raise ApiError(400, "ValidationException", "NextToken belongs to another request")
    return int(offset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="JSON Lines of API result items")
    parser.add_argument(
        "--water-data",
        type=Path,
        default=None,
        help="JSON Lines of GetEstimatedWaterAllocation result items",
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--page-size-cap", type=int, default=None)
    parser.add_argument("--paging", choices=PAGING, default="normal", help="see PAGING")
    parser.add_argument(
        "--faults",
        type=Faults.parse,
        default=None,
        help='fault mode, e.g. "rate=0.2,seed=7" (see tests/fakes/_http.py)',
    )
    args = parser.parse_args()
    fake = SustainabilityFake(
        load_rows(args.data),
        water_rows=load_rows(args.water_data, WaterRow) if args.water_data else (),
        page_size_cap=args.page_size_cap,
        faults=args.faults,
        paging=args.paging,
    )
    fake.start(port=args.port)
    print(fake.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
