"""The Sustainability API client: boto3 does signing and paging, the shared policy does the rest."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from carbon_taps_shared.errors import ErrorClass, ProviderError, classify
from carbon_taps_shared.messages import short, shown
from carbon_taps_shared.network import ca_bundle_from_env
from carbon_taps_shared.paging import PageGuard
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.retry import RetryPolicy, install_botocore_policy
from carbon_taps_shared.tapbase import TapUserError
from carbon_taps_shared.telemetry import Telemetry

from tap_aws_carbon import __version__
from tap_aws_carbon.auth import make_session

CARBON_OPERATION = "GetEstimatedCarbonEmissions"
WATER_OPERATION = "GetEstimatedWaterAllocation"
GROUP_BY = ["USAGE_ACCOUNT_ID", "REGION", "SERVICE"]
MAX_RESULTS = 5000  # the API's maximum page size; fewer round trips, fewer throttles


ASSUME_ROLE_HINT = (
    "let the base identity assume role_arn: grant it sts:AssumeRole on the role and name it as "
    "a principal in the role's trust policy (with external_id if the trust policy requires one)"
)
# STS codes for a caller whose own keys are wrong, expired or unknown, as opposed to a caller that
# may not assume the role (AccessDenied).
BAD_BASE_CREDENTIALS = frozenset(
    {
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
BASE_CREDENTIALS_HINT = (
    "STS refused the credentials the tap assumes role_arn with: check aws_access_key_id / "
    "aws_profile / role_arn (the base identity's keys, not the role's permissions)"
)
REGION_HINT = "set aws_region to an AWS region code such as us-east-1"
UNREACHABLE_HINT = (
    "the endpoint could not be reached; check aws_region (a region code such as us-east-1), "
    "sustainability_endpoint_url and the network or proxy, then re-run"
)


def failure_named(exc: BaseException, operation: str, hint: str | None) -> tuple[str, str | None]:
    """(operation, hint) for a failure the operation's own `hint` would misname.

    botocore assumes role_arn lazily, inside whichever call first needs credentials, so a refused
    AssumeRole surfaces there; granting that call's permission would not help.
    """
    found = classify(exc)
    if getattr(exc, "operation_name", None) == "AssumeRole":
        if found.code in BAD_BASE_CREDENTIALS:
            hint = BASE_CREDENTIALS_HINT  # STS did not know the caller: no grant would help
        else:
            hint = ASSUME_ROLE_HINT if found.error_class is ErrorClass.AUTH else None
        return "STS AssumeRole (role_arn)", hint
    if found.code in ("InvalidRegionError", "NoRegionError"):
        return operation, REGION_HINT
    if found.code == "EndpointConnectionError":
        return operation, UNREACHABLE_HINT
    return operation, hint


def _hint(error_class: ErrorClass, action: str) -> str | None:
    if error_class is ErrorClass.AUTH:
        return (
            f'grant sustainability:{action} (IAM, Resource "*") to the identity the tap runs as, '
            "and check aws_access_key_id / aws_profile / role_arn"
        )
    if error_class is ErrorClass.BAD_REQUEST:
        return "check start_date, end_date and aws_region; the API serves months from 2022-01"
    return None


def build_client(
    service: str,
    config: Mapping[str, Any],
    endpoint_url: str | None,
    *,
    policy: RetryPolicy,
    limiter: TokenBucket,
    telemetry: Telemetry,
    stream: str,
) -> Any:
    """A boto3 client whose retries, pacing and telemetry follow the shared policy."""
    try:
        client = make_session(config).client(
            service,
            region_name=config["aws_region"],
            endpoint_url=endpoint_url or None,
            verify=ca_bundle_from_env(provider="aws"),
            config=Config(
                retries=policy.botocore_retry_config(),
                connect_timeout=config["request_timeout_seconds"],
                read_timeout=config["request_timeout_seconds"],
                user_agent_extra=f"tap-aws-carbon/{__version__}",
            ),
        )
    except (BotoCoreError, ClientError) as exc:
        operation, hint = failure_named(exc, f"create {service} client", None)
        raise ProviderError(classify(exc), provider="aws", operation=operation, hint=hint) from exc
    except FileNotFoundError as exc:
        raise TapUserError(f"CA bundle: {exc}; fix or unset the variable") from exc
    install_botocore_policy(client, policy, telemetry=telemetry, limiter=limiter, stream=stream)
    return client


class SustainabilityClient:
    """One boto3 `sustainability` client with the tap's retry policy and rate limit installed."""

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        policy: RetryPolicy,
        limiter: TokenBucket,
        telemetry: Telemetry,
        stream: str,
    ) -> None:
        self._telemetry = telemetry
        self._stream = stream
        self._client = build_client(
            "sustainability",
            config,
            config.get("sustainability_endpoint_url"),
            policy=policy,
            limiter=limiter,
            telemetry=telemetry,
            stream=stream,
        )

    def carbon_emissions(self, month: date, end: date) -> Iterator[dict[str, Any]]:
        """Every result item for [month, end), grouped by account, region and service."""
        paginator = self._client.get_paginator("get_estimated_carbon_emissions")
        pages = paginator.paginate(
            TimePeriod=_time_period(month, end),
            GroupBy=GROUP_BY,
            EmissionsTypes=list(EMISSIONS_TYPES),
            Granularity="MONTHLY",
            PaginationConfig={"PageSize": MAX_RESULTS},
        )
        yield from self._results(pages, CARBON_OPERATION, month)

    def water_allocation(self, year: date, end: date) -> Iterator[dict[str, Any]]:
        """Every result item for the calendar year starting `year`, asked as [year, end).

        The API returns a year whenever the range contains its 1 January, so `end` may be the
        next 1 January or, for the year in progress, the current month's first day.
        """
        paginator = self._client.get_paginator("get_estimated_water_allocation")
        pages = paginator.paginate(
            TimePeriod=_time_period(year, end),
            GroupBy=GROUP_BY,
            AllocationTypes=list(WATER_ALLOCATION_TYPES),
            Granularity="YEARLY_CALENDAR",  # the only granularity the API serves for water
            PaginationConfig={"PageSize": MAX_RESULTS},
        )
        yield from self._results(pages, WATER_OPERATION, year, period="year")

    def _results(
        self, pages: Any, operation: str, start: date, *, period: str = "month"
    ) -> Iterator[dict[str, Any]]:
        iterator = iter(pages)
        page_number = 0
        where = f"{self._stream} {period} {start.year if period == 'year' else f'{start:%Y-%m}'}"
        # botocore catches only a token repeated twice in a row; A -> B -> A or endless empty
        # pages would otherwise be followed forever.
        guard = PageGuard(f"{where} ({operation})", support="AWS Support")
        while True:
            page_number += 1
            with self._telemetry.span(
                f"aws {operation} page",
                **{
                    "carbon_taps.provider": "aws",
                    "carbon_taps.stream": self._stream,
                    "carbon_taps.operation": operation,
                    "carbon_taps.page": page_number,
                    f"carbon_taps.{period}": start.isoformat(),
                },
            ):
                try:
                    page = next(iterator, None)
                except (BotoCoreError, ClientError) as exc:
                    cls = classify(exc)
                    failed, hint = failure_named(exc, operation, _hint(cls.error_class, operation))
                    if page_number > 1 and (
                        cls.error_class is ErrorClass.BAD_REQUEST or cls.code == "PaginationError"
                    ):
                        hint = _PAGE_TOKEN_HINT
                    raise ProviderError(cls, provider="aws", operation=failed, hint=hint) from exc
                except (ValueError, TypeError, AttributeError, KeyError) as exc:
                    if not _raised_by_parser(exc):
                        raise
                    raise MalformedAnswerError(
                        f"{where}: the {operation} answer (page {page_number}) cannot be parsed "
                        f"({type(exc).__name__}: {short(exc)}); {_MALFORMED_HINT}"
                    ) from None
            if page is None:
                return
            results, token = page.get("Results"), page.get("NextToken")
            if not isinstance(results, list):
                raise MalformedAnswerError(
                    f"{where}: the {operation} answer (page {page_number}) has no Results list; "
                    f"{_MALFORMED_HINT}"
                )
            if token is not None and not isinstance(token, str):
                # botocore would read a false-y one as the last page and drop the rest silently.
                raise MalformedAnswerError(
                    f"{where}: the {operation} answer (page {page_number}) has NextToken "
                    f"{shown(token)}, not a page token; {_MALFORMED_HINT}"
                )
            guard.next_page(token or None, len(results))  # botocore ends on an empty one
            yield from results


_MALFORMED_HINT = (
    "check that sustainability_endpoint_url (if set) points at the Sustainability API, and "
    "re-run later (the bookmark has not moved past this period)"
)
_PAGE_TOKEN_HINT = (
    "the API refused or repeated the page token (NextToken) it sent; re-run the tap later (the "
    "bookmark has not moved past this period) and report it to AWS Support if it persists"
)


class MalformedAnswerError(TapUserError):
    """An API answer that is not the documented JSON shape; the message names the period."""


def _raised_by_parser(exc: BaseException) -> bool:
    """Raised while botocore parsed an answer (a malformed body), not by the tap's own code."""
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_globals.get("__name__") == "botocore.parsers":
            return True
        trace = trace.tb_next
    return False


def _time_period(start: date, end: date) -> dict[str, datetime]:
    """[start, end) as the API's TimePeriod: midnight UTC of each day."""
    return {
        "Start": datetime(start.year, start.month, start.day, tzinfo=UTC),
        "End": datetime(end.year, end.month, end.day, tzinfo=UTC),
    }


WATER_ALLOCATION_TYPES: tuple[str, ...] = ("TOTAL_WATER_WITHDRAWALS",)

EMISSIONS_TYPES: tuple[str, ...] = (
    "TOTAL_LBM_CARBON_EMISSIONS",
    "TOTAL_MBM_CARBON_EMISSIONS",
    "TOTAL_SCOPE_1_CARBON_EMISSIONS",
    "TOTAL_SCOPE_2_LBM_CARBON_EMISSIONS",
    "TOTAL_SCOPE_2_MBM_CARBON_EMISSIONS",
    "TOTAL_SCOPE_3_LBM_CARBON_EMISSIONS",
    "TOTAL_SCOPE_3_MBM_CARBON_EMISSIONS",
)
