"""Local fake of the AWS Sustainability API (`GetEstimatedCarbonEmissions`).

It follows the botocore service model (rest-json, 2018-05-10): request keys, enums and limits are
read from the model itself, errors use the `x-amzn-ErrorType` header and a `{"message": ...}` body,
paging uses an opaque `NextToken` bound to the request that produced it, and a month is returned
only when the requested range contains its first day. It is configured with data — one row per
month x usage account x region x service, in the API's own result shape — and aggregates those
rows the way the real service does for whatever `GroupBy` it is asked for.

Run it alone (for the demo) with `python -m tests.fakes.aws_sustainability --data FILE`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.fakes._http import JsonFake, Reply, Request

OPERATIONS = {"/v1/estimated-carbon-emissions": "GetEstimatedCarbonEmissions"}
_MODEL = botocore.session.get_session().get_service_model("sustainability")
_OP = _MODEL.operation_model("GetEstimatedCarbonEmissions")
_INPUT = _OP.input_shape.members
EMISSIONS_TYPES: list[str] = list(_INPUT["EmissionsTypes"].member.enum)
DIMENSIONS: list[str] = list(_INPUT["GroupBy"].member.enum)
GRANULARITIES: list[str] = list(_INPUT["Granularity"].enum)
DEFAULT_TYPES = ["TOTAL_LBM_CARBON_EMISSIONS", "TOTAL_MBM_CARBON_EMISSIONS"]
MAX_RESULTS_LIMIT = _INPUT["MaxResults"].metadata["max"]
DEFAULT_MAX_RESULTS = 1000
_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<sig>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class EmissionRow:
    """One month x usage account x region x service, as the API reports it at its finest grain."""

    month: date
    account: str
    region: str
    service: str
    model_version: str
    values: dict[str, tuple[float, str]]  # emissions type -> (value, unit)

    @classmethod
    def from_result(cls, item: dict[str, Any]) -> EmissionRow:
        dims = item["DimensionsValues"]
        start = datetime.fromisoformat(item["TimePeriod"]["Start"].replace("Z", "+00:00"))
        return cls(
            month=start.date().replace(day=1),
            account=dims["USAGE_ACCOUNT_ID"],
            region=dims["REGION"],
            service=dims["SERVICE"],
            model_version=item["ModelVersion"],
            values={k: (v["Value"], v["Unit"]) for k, v in item["EmissionsValues"].items()},
        )

    def dimension(self, name: str) -> str:
        return {"USAGE_ACCOUNT_ID": self.account, "REGION": self.region, "SERVICE": self.service}[
            name
        ]


def load_rows(path: Path) -> list[EmissionRow]:
    """Rows from a JSON Lines file of API result items (the demo's sample data format)."""
    with path.open() as handle:
        return [EmissionRow.from_result(json.loads(line)) for line in handle if line.strip()]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.reply = Reply(
            status,
            {"message": message},
            {"x-amzn-ErrorType": code, **(headers or {})},
        )


@dataclass
class Faults:
    """Scripted failures, consumed one per request before the request is served."""

    queue: list[Reply] = field(default_factory=list)
    deny_access: bool = False


class SustainabilityFake(JsonFake):
    def __init__(
        self,
        rows: Iterable[EmissionRow] = (),
        *,
        page_size_cap: int | None = None,
        credentials: dict[str, str] | None = None,
        signing_region: str = "us-east-1",
    ) -> None:
        super().__init__()
        self.rows = list(rows)
        self.page_size_cap = page_size_cap
        self.credentials = credentials
        self.signing_region = signing_region
        self.faults = Faults()
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
        return [r.json() for r in self.requests if r.path in OPERATIONS]

    # --- protocol -----------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        try:
            operation = OPERATIONS.get(request.path)
            if operation is None or request.method != "POST":
                raise ApiError(404, "UnknownOperationException", f"No operation at {request.path}")
            self._check_signature(request)
            with self._fault_lock:
                if self.faults.queue:
                    return self.faults.queue.pop(0)
            if self.faults.deny_access:
                raise ApiError(
                    403,
                    "AccessDeniedException",
                    "User is not authorized to perform: sustainability:GetEstimatedCarbonEmissions",
                )
            try:
                body = request.json()
            except ValueError as exc:
                raise ApiError(400, "SerializationException", "Body is not valid JSON") from exc
            return Reply(200, self._carbon(body))
        except ApiError as err:
            return err.reply

    def _check_signature(self, request: Request) -> None:
        auth = request.header("Authorization") or ""
        match = _AUTH_RE.match(auth)
        if not match or not request.header("X-Amz-Date"):
            raise ApiError(403, "UnrecognizedClientException", "Missing or malformed signature")
        if match["service"] != "sustainability":
            raise ApiError(
                403, "InvalidSignatureException", "Credential scope names another service"
            )
        if self.credentials is None:
            return
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
        signer = SigV4Auth(Credentials(match["key"], secret), "sustainability", match["region"])
        expected = signer.signature(
            signer.string_to_sign(aws_request, signer.canonical_request(aws_request)), aws_request
        )
        if expected != match["sig"]:
            raise ApiError(403, "InvalidSignatureException", "The request signature does not match")

    def _carbon(self, body: dict[str, Any]) -> dict[str, Any]:
        unknown = set(body) - set(_INPUT)
        if unknown:
            raise ApiError(400, "SerializationException", f"Unknown keys: {sorted(unknown)}")
        start, end = _time_period(body.get("TimePeriod"))
        group_by = body.get("GroupBy", [])
        _check_members("GroupBy", group_by, DIMENSIONS)
        types = body.get("EmissionsTypes") or DEFAULT_TYPES
        _check_members("EmissionsTypes", types, EMISSIONS_TYPES)
        granularity = body.get("Granularity", "MONTHLY")
        if granularity not in GRANULARITIES:
            raise ApiError(400, "ValidationException", f"Invalid Granularity {granularity!r}")
        if granularity != "MONTHLY":
            raise ApiError(400, "ValidationException", "This fake serves MONTHLY granularity only")
        max_results = body.get("MaxResults", DEFAULT_MAX_RESULTS)
        if not isinstance(max_results, int) or not 1 <= max_results <= MAX_RESULTS_LIMIT:
            raise ApiError(400, "ValidationException", "MaxResults must be 1..5000")
        filters = (body.get("FilterBy") or {}).get("Dimensions", {})
        _check_members("FilterBy", list(filters), DIMENSIONS)

        results = self._aggregate(start, end, group_by, types, filters)
        request_hash = _request_hash(body)
        offset = _read_token(body.get("NextToken"), request_hash)
        page = min(max_results, self.page_size_cap or max_results)
        answer: dict[str, Any] = {"Results": results[offset : offset + page]}
        if offset + page < len(results):
            answer["NextToken"] = _make_token(offset + page, request_hash)
        return answer

    def _aggregate(self, start, end, group_by, types, filters) -> list[dict[str, Any]]:
        groups: dict[tuple, dict[str, Any]] = {}
        sums: dict[tuple, dict[str, list]] = defaultdict(dict)
        for row in self.rows:
            first_day = datetime(row.month.year, row.month.month, 1, tzinfo=UTC)
            if not start <= first_day < end:
                continue
            if any(row.dimension(d) not in allowed for d, allowed in filters.items()):
                continue
            key = (row.month, *(row.dimension(d) for d in group_by))
            group = groups.setdefault(
                key,
                {
                    "month": row.month,
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
            month = group["month"]
            nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
            results.append(
                {
                    "TimePeriod": {"Start": f"{month}T00:00:00Z", "End": f"{nxt}T00:00:00Z"},
                    "DimensionsValues": group["dims"],
                    "ModelVersion": group["model"],
                    "EmissionsValues": {
                        kind: {"Value": round(v, 6), "Unit": unit}
                        for kind, (v, unit) in sums[key].items()
                    },
                }
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


def _check_members(name: str, values: Any, allowed: list[str]) -> None:
    if not isinstance(values, list) or any(v not in allowed for v in values):
        raise ApiError(400, "ValidationException", f"Invalid {name}: allowed values are {allowed}")
    if len(set(values)) != len(values):
        raise ApiError(400, "ValidationException", f"Duplicate values in {name}")


def _request_hash(body: dict[str, Any]) -> str:
    stable = {k: v for k, v in body.items() if k not in {"NextToken", "MaxResults"}}
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
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--page-size-cap", type=int, default=None)
    args = parser.parse_args()
    fake = SustainabilityFake(load_rows(args.data), page_size_cap=args.page_size_cap)
    fake.start(port=args.port)
    print(fake.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
