"""What an Azure run finds once and hands to every stream: its credential, subscriptions,
data window and access decisions.

The questions that need a request (the subscriptions list, the data window, the access check)
are asked through callables the tap supplies, each at most once per run, so this module needs
no stream class and every stream module can use it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from carbon_taps_shared.services import RunServices

from tap_azure_emissions.auth import AzureIdentityAuthenticator, build_authenticator
from tap_azure_emissions.subscriptions import (
    AccessRegistry,
    chunked,
    denied_in,
    subscriptions_to_read,
)
from tap_azure_emissions.window import planned_months, window_of

# Asks ARM one question with the run's services: the answer's objects, as its stream yields them.
Ask = Callable[["AzureServices"], Iterable[dict[str, Any]]]


class AzureServices(RunServices):
    """The run's credential and the facts every Azure stream plans its requests with."""

    def __init__(
        self,
        config: Mapping[str, Any],
        logger: logging.Logger,
        tap_name: str,
        *,
        list_subscriptions: Ask,
        read_data_window: Ask,
        check_access: Ask,
    ) -> None:
        super().__init__(config, logger, tap_name)
        self.run_started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.access = AccessRegistry(logger)
        self._list_subscriptions = list_subscriptions
        self._read_data_window = read_data_window
        self._check_access = check_access

    @cached_property
    def authenticator(self) -> AzureIdentityAuthenticator:
        """One credential for the run, so azure-identity's token cache is shared."""
        return build_authenticator(self.config)

    @cached_property
    def subscriptions(self) -> list[str]:
        """The subscriptions to read: the configured ones, else every one the identity lists."""
        return subscriptions_to_read(
            self.config.get("subscription_ids"),
            lambda: self._list_subscriptions(self),
            self.logger,
        )

    @cached_property
    def subscription_chunks(self) -> list[list[str]]:
        """The subscriptions in chunks the API accepts (at most 100 each)."""
        return chunked(self.subscriptions)

    @cached_property
    def allowed_subscription_chunks(self) -> list[list[str]]:
        """Chunks without the subscriptions the API denies: a data report listing only denied
        subscriptions may be refused as a whole, costing the run."""
        denied = self.denied_subscriptions
        return chunked([s for s in self.subscriptions if s not in denied])

    @cached_property
    def data_window(self) -> tuple[date, date]:
        """(first, last) month the Carbon API serves now, from the API itself."""
        return window_of(next(iter(self._read_data_window(self)), {}))

    @cached_property
    def access_decisions(self) -> list[dict[str, Any]]:
        """The API's access decision per subscription, asked once per run."""
        return list(self._check_access(self))

    @cached_property
    def denied_subscriptions(self) -> set[str]:
        """The subscriptions the API denies this identity."""
        return denied_in(self.access_decisions)

    def months_to_read(self, bookmark: str | None) -> list[date]:
        """Available months from start_month, or from the bookmark minus the lookback."""
        return planned_months(
            self.data_window,
            self.config.get("start_month"),
            bookmark,
            self.config["lookback_months"],
        )

    def note_access(self, decisions: Iterable[Mapping[str, Any]]) -> None:
        """Remember each decision; warn once per run naming newly denied subscriptions."""
        self.access.note(decisions)
