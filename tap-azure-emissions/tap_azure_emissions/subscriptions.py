"""Which subscriptions a run reads, in which chunks, and what the API decided about each.

The subscriptions come from `subscription_ids` or, when none are set, from ARM's list of what
the identity can see (asked by lookups.py). The Carbon API takes at most 100 per request and
may deny some; its decisions are kept once per run, and each newly denied subscription is
warned about once.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from carbon_taps_shared.tapbase import TapUserError

MAX_SUBSCRIPTIONS_PER_REQUEST = 100  # the Carbon API's cap on subscriptionList
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def is_subscription_id(value: str) -> bool:
    """True for a GUID, the form of every Azure subscription id."""
    return bool(_GUID.match(value))


def subscriptions_to_read(
    configured: Iterable[Any] | None,
    listed: Callable[[], Iterable[Mapping[str, Any]]],
    logger: logging.Logger,
) -> list[str]:
    """The configured subscriptions, else every one `listed` returns; lower-case, each once."""
    if configured:
        ids = [str(s).lower() for s in configured]
    else:
        ids = [str(s["subscriptionId"]).lower() for s in listed()]
        bad = next((i for i in ids if not is_subscription_id(i)), None)
        if bad is not None:
            raise TapUserError(
                f"subscription_list (the subscriptions list) names {bad[:40]!r}, which is "
                "not a subscription id (a GUID); check arm_endpoint, or set subscription_ids"
            )
        logger.info("Listed %d subscription(s) the identity can see.", len(ids))
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise TapUserError(
            "no subscription to read: set subscription_ids, or give the identity Reader "
            "access to the subscriptions to report on"
        )
    return ids


def chunked(ids: list[str]) -> list[list[str]]:
    """`ids` in chunks the Carbon API accepts (at most 100 each), in order."""
    size = MAX_SUBSCRIPTIONS_PER_REQUEST
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def denied_in(decisions: Iterable[Mapping[str, Any]]) -> set[str]:
    """The subscriptions the decisions deny, lower-case."""
    return {
        str(d.get("subscriptionId") or "").lower()
        for d in decisions
        if str(d.get("decision") or "").lower() == "denied"
    }


class AccessRegistry:
    """Each subscription's latest access decision; streams on several threads may report."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._access: dict[str, tuple[str, str | None]] = {}
        self._lock = threading.Lock()

    def note(self, decisions: Iterable[Mapping[str, Any]]) -> None:
        """Remember each decision; warn once per run naming newly denied subscriptions."""
        denied = []
        with self._lock:
            for item in decisions:
                subscription = str(item.get("subscriptionId") or "").lower()
                decision = str(item.get("decision") or "")
                if not subscription:
                    continue
                known = self._access.get(subscription)
                self._access[subscription] = (decision, item.get("denialReason"))
                if decision.lower() == "denied" and (known is None or known[0] != decision):
                    denied.append(subscription)
        if denied:
            self._logger.warning(
                "Carbon Optimization access denied for %d subscription(s), their emissions are "
                "missing: %s. Grant the Carbon Optimization Reader role on them.",
                len(denied),
                ", ".join(sorted(denied)),
            )
