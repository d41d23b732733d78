"""Local fake of Entra ID + Azure Resource Manager for tap-azure-emissions, served over HTTPS.

One server plays three roles, each following its documented wire format (see
shared/reference/azure.md) and validating what it is sent:

- Entra ID: OIDC discovery and the v2.0 client-credentials token endpoint (client secret
  checked, scope must be the ARM audience). Tokens expire after `token_lifetime` seconds and
  ARM refuses expired ones with 401, so a run longer than a token's life needs a refresh.
- ARM subscriptions list (`nextLink` paging).
- Carbon Optimization (`Microsoft.Carbon`, api-version 2025-04-01): the data window and
  `carbonEmissionReports` for every report type: camelCase keys only, <= 100 lower-case
  subscriptions, first-of-month dateRange within the data window, one month for ItemDetails and
  TopItemsSummary, pageSize 1..5000, `skipToken` bound to the request, the listed scopes summed,
  denied subscriptions reported in `subscriptionAccessDecisionList` and left out of the data.
- Cost Management Query (`Microsoft.CostManagement/query`): Custom timeframe, Daily granularity,
  at most two groupings, `nextLink` paging (POST the same body again), QPU headers on every answer.

It is configured with data (resource-level carbon rows, subscription-level cost rows) and
aggregates it the way the APIs do. Run it alone for the demo with
`python -m tests.fakes.azure_arm --data sample_data/azure --port 0 --ca-file ca.pem`: it prints
its base URL (ARM endpoint and authority host alike) on stdout.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import trustme

from tests.fakes._http import FAULT_KINDS, Faults, JsonFake, Reply, Request
from tests.fakes.azure_data import CarbonRow, CostRow, load_sample

ARM_SCOPE = "https://management.azure.com/.default"
# Every access token Entra issues starts with this (the secret scan looks for it in all output).
ACCESS_TOKEN_PREFIX = "fake-arm-token-"
CARBON_API_VERSIONS = {"2025-04-01", "2025-06-01", "2025-10-01"}
COST_API_VERSIONS = {"2025-03-01", "2023-03-01", "2021-10-01", "2019-11-01"}
SUBSCRIPTIONS_API_VERSIONS = {"2022-12-01", "2020-01-01", "2016-06-01"}
REPORT_TYPES = {
    "OverallSummaryReport",
    "MonthlySummaryReport",
    "TopItemsSummaryReport",
    "TopItemsMonthlySummaryReport",
    "ItemDetailsReport",
}
QUERY_KEYS = {
    "reportType",
    "dateRange",
    "subscriptionList",
    "carbonScopeList",
    "resourceGroupUrlList",
    "resourceTypeList",
    "locationList",
    "categoryType",
    "topItems",
    "orderBy",
    "sortDirection",
    "pageSize",
    "skipToken",
}
SCOPES = {"Scope1", "Scope2", "Scope3"}
CATEGORIES = {"Subscription", "ResourceGroup", "Location", "Resource", "ResourceType"}
ORDER_BY = {
    "ItemName",
    "LatestMonthEmissions",
    "PreviousMonthEmissions",
    "MonthOverMonthEmissionsChangeRatio",
    "MonthlyEmissionsChangeValue",
    "ResourceGroup",
}
COST_TYPES = {"Usage", "ActualCost", "AmortizedCost"}
COST_GROUPINGS = {
    "ResourceGroup",
    "ResourceGroupName",
    "ResourceLocation",
    "ResourceType",
    "ResourceId",
    "MeterCategory",
    "MeterSubcategory",
    "Meter",
    "ServiceName",
    "ServiceTier",
    "SubscriptionId",
    "SubscriptionName",
    "ChargeType",
}
# Groupable on Microsoft Customer Agreements only (an EA answers 400 Invalid dataset grouping).
MCA_GROUPINGS = {"UnitOfMeasure", "ServiceFamily", "Product"}
COST_MEASURES = {"Cost", "PreTaxCost", "UsageQuantity"}
QPU_HEADER = "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after"
# How paging ends (`paging=`, `--paging`), for item-details `skipToken`, Cost Management and
# subscriptions `nextLink` alike: "normal"; "cycle", the last page points at the second page
# again (A -> B -> A; needs three pages or more); "endless_empty", past the last page every page
# is empty and points at the next one with a pointer never sent before.
PAGING = ("normal", "cycle", "endless_empty")


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.reply = Reply(
            status,
            {"error": {"code": code, "message": message, "target": None, "details": []}},
            headers or {},
        )


@dataclass
class ScriptedFaults:
    """Scripted failures per API ("carbon", "cost", "token"), consumed one per request."""

    queues: dict[str, list[Reply]] = field(default_factory=lambda: defaultdict(list))
    carbon_forbidden: bool = False
    cost_forbidden: bool = False
    # ARM's clock runs ahead of the tap's: the first `skewed_tokens` access tokens it sees are
    # refused as expired (401 ExpiredAuthenticationToken) although Entra ID just issued them.
    skewed_tokens: int = 0
    skewed_seen: set[str] = field(default_factory=set)


class AzureFake(JsonFake):
    """Entra ID and ARM over HTTPS; see the module docstring.

    Fault mode (`faults=`, `--faults`), on ARM paths only: throttling is ARM's 429 body, with
    `Retry-After` (Carbon, subscriptions) or the QPU retry-after header (Cost Management) for
    `429_retry_after`; 500/502/503 carry ARM's error shape. Azure does not revoke a bearer token
    it issued (CAE challenges go only to clients that opt in, which the tap does not), so
    `expired_token` is modelled by time: Entra ID issues tokens that live `short_token_lifetime`
    seconds (their true `expires_in`), so tokens expire during a run, and ARM refuses each
    expired one with 401 `ExpiredAuthenticationToken`.
    """

    fault_paths = (r"^/(subscriptions|providers)(/|$)",)
    per_request_kinds = tuple(k for k in FAULT_KINDS if k != "expired_token")

    def __init__(
        self,
        carbon_rows: Iterable[CarbonRow] = (),
        cost_rows: Iterable[CostRow] = (),
        *,
        subscriptions: list[str] | None = None,
        window: tuple[date, date] | None = None,
        tenant: str = "fake-tenant",
        clients: dict[str, str] | None = None,
        certificate_clients: dict[str, bytes] | None = None,
        denied: Iterable[str] = (),
        failing_months: Iterable[str] = (),
        token_lifetime: float = 3600,
        item_page_cap: int | None = None,
        cost_page_size: int = 1000,
        subscription_page_size: int = 50,
        extra_item_fields: dict[str, Any] | None = None,
        faults: Faults | None = None,
        short_token_lifetime: float = 2,
        paging: str = "normal",
        agreement: str = "EA",
    ) -> None:
        super().__init__(faults)
        self.agreement = agreement  # "EA" or "MCA": which groupings Cost Management accepts
        if paging not in PAGING:
            raise ValueError(f"unknown paging {paging!r}; known: {PAGING}")
        self.paging = paging  # see PAGING
        self.carbon_rows = list(carbon_rows)
        self.cost_rows = list(cost_rows)
        self.subscriptions = subscriptions or sorted(
            {r.subscription_id for r in self.carbon_rows}
            | {r.subscription_id for r in self.cost_rows}
        )
        months = sorted({r.month for r in self.carbon_rows})
        self.window = window or ((months[0], months[-1]) if months else None)
        self.tenant = tenant
        self.clients = clients if clients is not None else {}
        self.certificate_clients = certificate_clients or {}  # client id -> certificate PEM
        self.denied = {d.lower() for d in denied}
        self.failing_months = set(failing_months)  # "YYYY-MM-01": item reports answer 500
        self.token_lifetime = token_lifetime
        self.item_page_cap = item_page_cap
        self.cost_page_size = cost_page_size
        self.subscription_page_size = subscription_page_size
        self.extra_item_fields = extra_item_fields or {}  # a newer API version's additions
        self.request_times: list[tuple[float, str]] = []  # (monotonic, path) per request
        self.faults = ScriptedFaults()
        self.short_token_lifetime = short_token_lifetime
        self.tokens: dict[str, float] = {}  # access token -> expiry (monotonic)
        self._state_lock = threading.Lock()
        self._ca = trustme.CA()
        self._ca_file: Path | None = None

    # --- TLS ----------------------------------------------------------------------------
    def start_tls(self, port: int = 0) -> AzureFake:
        """Serve over HTTPS with a certificate from the fake's own CA (see `ca_file`)."""
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.start(port=port, tls=context)
        # Headers and body go out in two writes; without this, delayed ACKs add ~40 ms each.
        assert self._server is not None
        self._server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
        return self

    @property
    def ca_file(self) -> str:
        """PEM of the CA that signed the server certificate (for REQUESTS_CA_BUNDLE)."""
        if self._ca_file is None:
            handle = tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False)  # noqa: SIM115
            handle.write(self._ca.cert_pem.bytes())
            handle.close()
            self._ca_file = Path(handle.name)
        return str(self._ca_file)

    def __enter__(self) -> AzureFake:
        return self.start_tls() if self._server is None else self

    # --- test controls ------------------------------------------------------------------
    def throttle_next(self, api: str, count: int = 1, headers: dict[str, str] | None = None):
        body = ArmError(429, "429", "Too many requests. Please retry.", headers).reply
        with self._state_lock:
            self.faults.queues[api].extend(body for _ in range(count))

    def carbon_bodies(self, report_type: str | None = None) -> list[dict[str, Any]]:
        return [
            r.json()
            for r in self.requests
            if r.path.endswith("/carbonEmissionReports")
            and (report_type is None or r.json().get("reportType") == report_type)
        ]

    def cost_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/Microsoft.CostManagement/query")]

    def token_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/oauth2/v2.0/token")]

    def bearer_tokens(self) -> list[str]:
        """The distinct bearer tokens ARM requests carried, in first-use order."""
        seen = dict.fromkeys(
            r.header("Authorization") or "" for r in self.requests if not self._is_entra(r.path)
        )
        return [t for t in seen if t]

    # --- fault mode ---------------------------------------------------------------------
    def fault_reply(self, kind: str, request: Request) -> Reply:
        cost = self._api(request.path) == "cost"
        if kind in ("429", "429_retry_after"):
            headers = {}
            if cost:  # the QPU quota's own headers come on every Cost Management answer
                headers["x-ms-ratelimit-microsoft.costmanagement-qpu-consumed"] = "0"
                headers["x-ms-ratelimit-microsoft.costmanagement-qpu-remaining"] = "QueryResource=0"
            if kind == "429_retry_after":
                wait = str(max(1, math.ceil(self.fault_mode.retry_after_seconds)))
                headers[QPU_HEADER if cost else "Retry-After"] = wait
            return ArmError(429, "429", "Too many requests. Please retry.", headers).reply
        code, message = {
            "500": ("InternalServerError", "Encountered internal server error. Please try again."),
            "502": ("BadGateway", "The gateway did not receive a response in time."),
            "503": ("ServiceUnavailable", "The service is temporarily unavailable."),
        }[kind]
        return ArmError(int(kind), code, message).reply

    @property
    def _token_lifetime(self) -> float:
        return self.short_token_lifetime if self.expiring_tokens else self.token_lifetime

    def _next_offset(self, offset: int, size: int, total: int) -> int | None:
        """Where the next page starts, or None after the last page (as `paging` says)."""
        if offset + size < total:
            return offset + size
        if self.paging == "cycle" and offset > size:
            return size  # back to the second page
        if self.paging == "endless_empty":
            return offset + size  # past the end: an empty page, and another after it
        return None

    # --- dispatch -----------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        with self._state_lock:
            self.request_times.append((time.monotonic(), request.path))
        try:
            path = request.path
            query = parse_qs(request.query)
            if path == f"/{self.tenant}/v2.0/.well-known/openid-configuration":
                return self._openid()
            if path == f"/{self.tenant}/oauth2/v2.0/token":
                return self._token(request)
            if "/oauth2/" in path or "/.well-known/" in path:
                return Reply(
                    400,
                    {
                        "error": "invalid_tenant",
                        "error_description": "AADSTS90002: Tenant not found",
                    },
                )
            self._check_bearer(request)
            api = self._api(path)
            with self._state_lock:
                queue = self.faults.queues.get(api)
                if queue:
                    return queue.pop(0)
            if path == "/subscriptions" and request.method == "GET":
                self._check_version(query, SUBSCRIPTIONS_API_VERSIONS)
                return self._subscriptions(query)
            if path == "/providers/Microsoft.Carbon/queryCarbonEmissionDataAvailableDateRange":
                self._post_with_version(request, query, CARBON_API_VERSIONS)
                if request.body:
                    raise ArmError(400, "BadRequest", "This action takes no body")
                return Reply(200, self._window_answer())
            if path == "/providers/Microsoft.Carbon/carbonEmissionReports":
                self._post_with_version(request, query, CARBON_API_VERSIONS)
                if self.faults.carbon_forbidden:
                    raise ArmError(
                        403,
                        "AuthorizationFailed",
                        "The client does not have authorization to perform action "
                        "'Microsoft.Carbon/carbonEmissionReports/action'",
                    )
                return Reply(200, self._carbon(request.json()))
            if path.endswith("/providers/Microsoft.CostManagement/query"):
                self._post_with_version(request, query, COST_API_VERSIONS)
                scope = path[1 : -len("/providers/Microsoft.CostManagement/query")]
                return self._cost(scope, request, query)
            raise ArmError(404, "NotFound", f"No route for {request.method} {path}")
        except ArmError as err:
            return err.reply

    def _is_entra(self, path: str) -> bool:
        return path.startswith(f"/{self.tenant}/") or "/oauth2/" in path or "/.well-known/" in path

    @staticmethod
    def _api(path: str) -> str:
        if "Microsoft.Carbon" in path:
            return "carbon"
        if "CostManagement" in path:
            return "cost"
        return "arm"

    # --- Entra ID -----------------------------------------------------------------------
    def _openid(self) -> Reply:
        base = f"{self.url}/{self.tenant}"
        return Reply(
            200,
            {
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "issuer": f"{base}/v2.0",
            },
        )

    def _token(self, request: Request) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return _aad_error(400, "unsupported_grant_type", "AADSTS70003")
        client_id = form.get("client_id", "")
        if client_id in self.certificate_clients:
            problem = self._check_assertion(form, self.certificate_clients[client_id])
            if problem:
                return _aad_error(401, "invalid_client", f"AADSTS700027: {problem}")
        else:
            secret = self.clients.get(client_id)
            if secret is None:
                return _aad_error(400, "unauthorized_client", "AADSTS700016: Application not found")
            if form.get("client_secret") != secret:
                return _aad_error(
                    401, "invalid_client", "AADSTS7000215: Invalid client secret provided."
                )
        if form.get("scope") != ARM_SCOPE:
            return _aad_error(400, "invalid_scope", "AADSTS70011: The provided scope is invalid")
        token = base64.urlsafe_b64encode(hashlib.sha256(str(time.time_ns()).encode()).digest())
        access = f"{ACCESS_TOKEN_PREFIX}{token.decode()[:24]}"
        with self._state_lock:
            self.tokens[access] = time.monotonic() + self._token_lifetime
        return Reply(
            200,
            {
                "access_token": access,
                "expires_in": int(self._token_lifetime),
                "token_type": "Bearer",
            },
        )

    def _check_assertion(self, form: dict[str, str], certificate_pem: bytes) -> str | None:
        """A client assertion must be a JWT signed by the registered certificate's key."""
        import jwt
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        if form.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return "client_assertion_type must be jwt-bearer"
        certificate = x509.load_pem_x509_certificate(certificate_pem)
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                key=certificate.public_key(),
                algorithms=["RS256", "PS256"],
                audience=f"{self.url}/{self.tenant}/oauth2/v2.0/token",
            )
        except jwt.PyJWTError as exc:
            return f"Client assertion failed signature validation ({type(exc).__name__})"
        thumbprints = {
            header.get("x5t"): hashes.SHA1(),  # x5t: what Entra ID matches on
            header.get("x5t#S256"): hashes.SHA256(),
        }
        if not any(
            t
            and t.rstrip("=")
            == base64.urlsafe_b64encode(certificate.fingerprint(h)).decode().rstrip("=")
            for t, h in thumbprints.items()
        ):
            return "the assertion's thumbprint names another certificate"
        if claims.get("iss") != form.get("client_id") or claims.get("sub") != form.get("client_id"):
            return "iss and sub must be the client id"
        return None

    def _check_bearer(self, request: Request) -> None:
        auth = request.header("Authorization") or ""
        if not auth.startswith("Bearer "):
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. No bearer token.")
        expiry = self.tokens.get(auth[len("Bearer ") :])
        if expiry is None:
            raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.")
        token = auth[len("Bearer ") :]
        skewed = self.faults.skewed_seen
        if token in skewed or len(skewed) < self.faults.skewed_tokens:
            skewed.add(token)
            raise ArmError(401, "ExpiredAuthenticationToken", "The access token expiry has passed.")
        if time.monotonic() >= expiry:
            raise ArmError(401, "ExpiredAuthenticationToken", "The access token expiry has passed.")

    # --- ARM ----------------------------------------------------------------------------
    @staticmethod
    def _check_version(query: dict[str, list[str]], allowed: set[str]) -> None:
        version = (query.get("api-version") or [None])[0]
        if version not in allowed:
            raise ArmError(
                400, "InvalidApiVersionParameter", f"The api-version '{version}' is invalid."
            )

    def _post_with_version(self, request: Request, query: dict, allowed: set[str]) -> None:
        if request.method != "POST":
            raise ArmError(405, "MethodNotAllowed", "Use POST")
        self._check_version(query, allowed)

    def _subscriptions(self, query: dict[str, list[str]]) -> Reply:
        offset = int((query.get("$skiptoken") or ["0"])[0])
        page = self.subscriptions[offset : offset + self.subscription_page_size]
        answer: dict[str, Any] = {
            "value": [
                {
                    "id": f"/subscriptions/{s}",
                    "subscriptionId": s,
                    "tenantId": self.tenant,
                    "displayName": f"sub {s[:8]}",
                    "state": "Enabled",
                    "futureField": {"ignored": True},
                }
                for s in page
            ]
        }
        nxt = self._next_offset(offset, self.subscription_page_size, len(self.subscriptions))
        if nxt is not None:
            answer["nextLink"] = f"{self.url}/subscriptions?api-version=2022-12-01&$skiptoken={nxt}"
        return Reply(200, answer)

    # --- Carbon Optimization ------------------------------------------------------------
    def _window_answer(self) -> dict[str, str]:
        if self.window is None:
            raise ArmError(404, "NotFound", "No carbon data")
        return {"startDate": self.window[0].isoformat(), "endDate": self.window[1].isoformat()}

    def _carbon(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ArmError(400, "BadRequest", "Body must be a QueryFilter object")
        unknown = set(body) - QUERY_KEYS
        if unknown:
            raise ArmError(400, "BadRequest", f"Unknown properties: {sorted(unknown)}")
        report = body.get("reportType")
        if report not in REPORT_TYPES:
            raise ArmError(400, "BadRequest", f"Invalid reportType {report!r}")
        start, end = self._date_range(body.get("dateRange"), report)
        subs = body.get("subscriptionList")
        if not isinstance(subs, list) or not subs:
            raise ArmError(400, "BadRequest", "subscriptionList is required")
        if len(subs) > 100:
            raise ArmError(400, "BadRequest", "subscriptionList allows at most 100 subscriptions")
        if any(s != s.lower() for s in subs) or len(set(subs)) != len(subs):
            raise ArmError(400, "BadRequest", "subscriptionList ids must be lower-case and unique")
        scopes = body.get("carbonScopeList")
        if not isinstance(scopes, list) or not scopes or not set(scopes) <= SCOPES:
            raise ArmError(400, "BadRequest", "carbonScopeList must list Scope1/Scope2/Scope3")
        decisions = [
            {
                "subscriptionId": s,
                "decision": "Denied",
                "denialReason": "reader permission required on the subscription",
            }
            if s in self.denied
            else {"subscriptionId": s, "decision": "Allowed"}
            for s in subs
        ]
        allowed = {s for s in subs if s not in self.denied}
        if not allowed and report != "OverallSummaryReport":
            # Whether Azure answers an all-Denied list with 200 and no rows or with 403 is not
            # documented; the fake refuses a data report so, so a tap that does not skip denied
            # subscriptions fails here as it would against the stricter service. The overall
            # summary is the tap's access probe: it answers with the decision list.
            raise ArmError(
                403,
                "AuthorizationFailed",
                "The client does not have authorization to perform action "
                "'Microsoft.Carbon/carbonEmissionReports/action' over any listed subscription.",
            )
        rows = [r for r in self.carbon_rows if r.subscription_id in allowed and r.scope in scopes]
        if report == "ItemDetailsReport":
            if start.isoformat() in self.failing_months:
                raise ArmError(500, "InternalServerError", "Something went wrong")
            value, token = self._item_details(body, start, rows)
            value = [{**item, **self.extra_item_fields} for item in value]
            return {"value": value, "skipToken": token, "subscriptionAccessDecisionList": decisions}
        if report == "MonthlySummaryReport":
            value = [self._monthly(m, rows) for m in _months(start, end)][::-1]  # newest first
        elif report == "OverallSummaryReport":
            value = [self._overall(start, end, rows)]
        else:
            value = self._top_items(body, report, start, end, rows)
        value = [{**item, **self.extra_item_fields} for item in value]
        return {"value": value, "subscriptionAccessDecisionList": decisions}

    def _date_range(self, value: Any, report: str) -> tuple[date, date]:
        try:
            start = date.fromisoformat(value["start"])
            end = date.fromisoformat(value["end"])
        except (TypeError, KeyError, ValueError):
            raise ArmError(
                400, "BadRequest", "dateRange needs start and end (YYYY-MM-DD)"
            ) from None
        if start.day != 1 or end.day != 1:
            raise ArmError(400, "BadRequest", "dateRange start and end must be the 1st of a month")
        if end < start or _index(end) - _index(start) > 12:
            raise ArmError(400, "BadRequest", "dateRange must span 0..12 months")
        if report in ("ItemDetailsReport", "TopItemsSummaryReport") and start != end:
            raise ArmError(400, "BadRequest", f"{report} requires start and end in the same month")
        if self.window is None or start < self.window[0] or end > self.window[1]:
            raise ArmError(400, "BadRequest", "dateRange is outside the available data range")
        return start, end

    def _monthly(self, month: date, rows: list[CarbonRow]) -> dict[str, Any]:
        latest = [r for r in rows if r.month == month]
        previous = [r for r in rows if r.month == _shift(month, -1)]
        item = {"dataType": "MonthlySummaryData", "date": month.isoformat()}
        item.update(_figures(_sum(latest), _sum(previous)))
        usage = sum({(r.resource_id, r.month): r.usage for r in latest}.values())
        item["carbonIntensity"] = round(_sum(latest) / usage, 6) if usage else 0.0
        return item

    def _overall(self, start: date, end: date, rows: list[CarbonRow]) -> dict[str, Any]:
        latest = [r for r in rows if start <= r.month <= end]
        previous = [r for r in rows if _shift(start, -1) <= r.month <= _shift(end, -1)]
        return {"dataType": "OverallSummaryData", **_figures(_sum(latest), _sum(previous))}

    def _top_items(
        self, body: dict[str, Any], report: str, start: date, end: date, rows: list[CarbonRow]
    ) -> list[dict[str, Any]]:
        """TopItemsSummary (one month) / TopItemsMonthlySummary: the N largest items."""
        category = body.get("categoryType")
        if category not in CATEGORIES:
            raise ArmError(400, "BadRequest", f"Invalid categoryType {category!r}")
        top = body.get("topItems")
        if not isinstance(top, int) or not 1 <= top <= 10:
            raise ArmError(400, "BadRequest", "topItems must be 1..10")
        value = []
        for month in _months(start, end):
            items, _ = self._item_details(
                {**body, "orderBy": "ItemName", "sortDirection": "Asc", "pageSize": 5000},
                month,
                rows,
            )
            items.sort(key=lambda i: -i["latestMonthEmissions"])
            for item in items[:top]:
                data_type = item["dataType"].replace("ItemDetailsData", "")
                suffix = (
                    "TopItemsMonthlySummaryData" if "Monthly" in report else "TopItemsSummaryData"
                )
                shaped = {**item, "dataType": f"{data_type}{suffix}"}
                for key in ("location", "resourceType"):  # ItemDetails-only fields
                    shaped.pop(key, None)
                if "Monthly" in report:
                    shaped["date"] = month.isoformat()
                value.append(shaped)
        return value

    def _item_details(
        self, body: dict[str, Any], month: date, rows: list[CarbonRow]
    ) -> tuple[list[dict[str, Any]], str | None]:
        category = body.get("categoryType")
        if category not in CATEGORIES:
            raise ArmError(400, "BadRequest", f"Invalid categoryType {category!r}")
        if body.get("orderBy") not in ORDER_BY or body.get("sortDirection") not in ("Asc", "Desc"):
            raise ArmError(400, "BadRequest", "orderBy and sortDirection are required")
        page_size = body.get("pageSize")
        if not isinstance(page_size, int) or not 1 <= page_size <= 5000:
            raise ArmError(400, "BadRequest", "pageSize must be 1..5000")
        groups: dict[str, dict[str, Any]] = {}
        sums: dict[str, list[list[CarbonRow]]] = defaultdict(lambda: [[], []])
        for row in rows:
            if row.month not in (month, _shift(month, -1)):
                continue
            key, item = _item_identity(category, row)
            if row.month == month:
                groups.setdefault(key, item)
            sums[key][0 if row.month == month else 1].append(row)
        value = []
        for key in sorted(groups, key=lambda k: (groups[k]["itemName"], k)):
            latest, previous = sums[key]
            value.append({**groups[key], **_figures(_sum(latest), _sum(previous))})
        if body.get("sortDirection") == "Desc":
            value.reverse()
        binding = _binding(body)
        offset = _read_token(body.get("skipToken"), binding)
        size = min(page_size, self.item_page_cap or page_size)
        nxt = self._next_offset(offset, size, len(value))
        token = None if nxt is None else _make_token(nxt, binding)
        return value[offset : offset + size], token

    # --- Cost Management ----------------------------------------------------------------
    def _cost(self, scope: str, request: Request, query: dict[str, list[str]]) -> Reply:
        subscription = None
        if scope.startswith("subscriptions/"):
            subscription = scope.split("/")[1]
            if subscription not in self.subscriptions:
                raise ArmError(
                    404, "SubscriptionNotFound", f"Subscription {subscription} not found"
                )
        elif not scope.startswith("providers/Microsoft.Billing/billingAccounts/"):
            raise ArmError(400, "BadRequest", f"Unsupported scope {scope}")
        if self.faults.cost_forbidden:
            raise ArmError(
                403,
                "RBACAccessDenied",
                "The client does not have authorization to perform action "
                "'Microsoft.CostManagement/query/action'",
            )
        body = request.json()
        if body.get("type") not in COST_TYPES:
            raise ArmError(400, "BadRequest", f"Invalid query type {body.get('type')!r}")
        if body.get("timeframe") != "Custom":
            raise ArmError(400, "BadRequest", "This fake serves timeframe Custom only")
        try:
            first = datetime.fromisoformat(body["timePeriod"]["from"].replace("Z", "+00:00"))
            last = datetime.fromisoformat(body["timePeriod"]["to"].replace("Z", "+00:00"))
        except (KeyError, TypeError, ValueError):
            raise ArmError(400, "BadRequest", "timePeriod needs from and to") from None
        if last < first or (last - first) > timedelta(days=366):
            raise ArmError(400, "BadRequest", "Invalid timePeriod")
        dataset = body.get("dataset") or {}
        if dataset.get("granularity") != "Daily":
            raise ArmError(400, "BadRequest", "This fake serves Daily granularity only")
        grouping = dataset.get("grouping") or []
        names = [g.get("name") for g in grouping if g.get("type") == "Dimension"]
        groupable = COST_GROUPINGS | (MCA_GROUPINGS if self.agreement == "MCA" else set())
        if len(grouping) > 2 or len(names) != len(grouping) or not set(names) <= groupable:
            raise ArmError(400, "BadRequest", "Invalid dataset grouping")
        aggregation = dataset.get("aggregation") or {}
        if not 1 <= len(aggregation) <= 2:  # "up to 2 aggregation clauses"
            raise ArmError(400, "BadRequest", "Invalid dataset aggregation")
        measures = [m.get("name") for m in aggregation.values() if isinstance(m, dict)]
        if (
            len(measures) != len(aggregation)
            or not set(measures) <= COST_MEASURES
            or len(set(measures)) != len(measures)
            or any(m.get("function") != "Sum" for m in aggregation.values())
        ):
            raise ArmError(400, "BadRequest", "Invalid aggregation")
        rows = [
            r
            for r in self.cost_rows
            if (subscription is None or r.subscription_id == subscription)
            and first.date() <= r.day <= last.date()
        ]
        sums: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for r in rows:
            dims = {
                "ResourceLocation": r.location,
                "ServiceName": r.service,
                "MeterCategory": r.service,
                "Meter": r.meter,
                "UnitOfMeasure": r.unit,
                "SubscriptionId": r.subscription_id,
            }
            key = (int(r.day.strftime("%Y%m%d")), *(dims.get(n, "") for n in names), r.currency)
            for measure in measures:
                sums[key][measure] += r.quantity if measure == "UsageQuantity" else r.cost
        # Column order is the service's, not the request's: callers must map by name.
        columns = ["UsageDate", *measures, *reversed(names), "Currency"]
        table = []
        for key in sorted(sums):
            day, *dims, currency = key
            by_name = dict(zip(names, dims, strict=True))
            values = {"UsageDate": day, "Currency": currency}
            values.update({m: round(v, 9) for m, v in sums[key].items()})  # sums of floats
            table.append([values.get(c, by_name.get(c)) for c in columns])
        if not table:
            return Reply(204, None)  # the service answers an empty period with No Content
        binding = _binding({**body, "__scope__": scope})
        offset = _read_token((query.get("$skiptoken") or [None])[0], binding)
        page = table[offset : offset + self.cost_page_size]
        next_link = None
        nxt = self._next_offset(offset, self.cost_page_size, len(table))
        if nxt is not None:
            token = quote(_make_token(nxt, binding))
            next_link = (
                f"{self.url}/{scope}/providers/Microsoft.CostManagement/query"
                f"?api-version={query['api-version'][0]}&$skiptoken={token}"
            )
        months = len(list(_months(first.date().replace(day=1), last.date().replace(day=1))))
        answer = {
            "id": f"{scope}/providers/Microsoft.CostManagement/query/fake",
            "name": "fake",
            "type": "Microsoft.CostManagement/query",
            "properties": {
                "nextLink": next_link,
                "columns": [
                    {
                        "name": c,
                        "type": "Number" if c in ("UsageDate", *measures) else "String",
                    }
                    for c in columns
                ],
                "rows": page,
            },
        }
        return Reply(
            200,
            answer,
            {
                "x-ms-ratelimit-microsoft.costmanagement-qpu-consumed": str(months),
                "x-ms-ratelimit-microsoft.costmanagement-qpu-remaining": "QueryResource=395",
            },
        )


def _aad_error(status: int, error: str, description: str) -> Reply:
    return Reply(status, {"error": error, "error_description": description, "error_codes": [0]})


def _index(month: date) -> int:
    return month.year * 12 + month.month - 1


def _shift(month: date, count: int) -> date:
    index = _index(month) + count
    return date(index // 12, index % 12 + 1, 1)


def _months(start: date, end: date) -> list[date]:
    return [_shift(start, i) for i in range(_index(end) - _index(start) + 1)]


def _sum(rows: Iterable[CarbonRow]) -> float:
    return round(sum(r.emissions for r in rows), 6)


def _figures(latest: float, previous: float) -> dict[str, Any]:
    """Base fields of every row; the change fields are absent when there is no previous."""
    figures: dict[str, Any] = {"latestMonthEmissions": latest, "previousMonthEmissions": previous}
    if previous:
        figures["monthlyEmissionsChangeValue"] = round(latest - previous, 6)
        figures["monthOverMonthEmissionsChangeRatio"] = round((latest - previous) / previous, 6)
    return figures


def _item_identity(category: str, row: CarbonRow) -> tuple[str, dict[str, Any]]:
    if category == "Subscription":
        return row.subscription_id, {
            "dataType": "ItemDetailsData",
            "itemName": row.subscription_id,
            "categoryType": category,
        }
    if category == "ResourceGroup":
        return row.resource_group_url.lower(), {
            "dataType": "ResourceGroupItemDetailsData",
            "itemName": row.resource_group,
            "categoryType": category,
            "subscriptionId": row.subscription_id,
            "resourceGroupUrl": row.resource_group_url,
        }
    if category == "Resource":
        return row.resource_id.lower(), {
            "dataType": "ResourceItemDetailsData",
            "itemName": row.resource_name,
            "categoryType": category,
            "subscriptionId": row.subscription_id,
            "resourceGroup": row.resource_group,
            "resourceId": row.resource_id,
            "location": row.location,
            "resourceType": row.resource_type.lower(),
        }
    if category == "ResourceType":
        return row.resource_type.lower(), {
            "dataType": "ItemDetailsData",
            "itemName": row.resource_type.lower(),
            "categoryType": category,
        }
    return row.location, {
        "dataType": "ItemDetailsData",
        "itemName": row.location,
        "categoryType": category,
    }


def _binding(body: dict[str, Any]) -> str:
    """Binds a page token to the request that produced it (paging keys aside)."""
    stable = {k: v for k, v in body.items() if k != "skipToken"}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:16]


def _make_token(offset: int, binding: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, binding]).encode()).decode()


def _read_token(token: str | None, binding: str) -> int:
    if not token:
        return 0
    try:
        offset, bound_to = json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        raise ArmError(400, "BadRequest", "Invalid skipToken") from None
    if bound_to != binding:
        raise ArmError(400, "BadRequest", "skipToken belongs to another request")
    return int(offset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, required=True, help="folder from tests.fakes.azure_data"
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ca-file", type=Path, required=True, help="where to write the CA PEM")
    parser.add_argument("--client-id", default="demo-client")
    parser.add_argument("--client-secret", default="demo-not-a-secret")
    parser.add_argument("--tenant", default="demo-tenant")
    parser.add_argument(
        "--faults",
        type=Faults.parse,
        default=None,
        help='fault mode, e.g. "rate=0.2,seed=7" (see tests/fakes/_http.py)',
    )
    parser.add_argument("--paging", choices=PAGING, default="normal", help="see PAGING")
    args = parser.parse_args()
    subs, carbon, cost = load_sample(args.data)
    fake = AzureFake(
        carbon,
        cost,
        subscriptions=subs,
        tenant=args.tenant,
        clients={args.client_id: args.client_secret},
        faults=args.faults,
        paging=args.paging,
    )
    fake.start_tls(port=args.port)
    args.ca_file.write_bytes(fake._ca.cert_pem.bytes())
    print(fake.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
