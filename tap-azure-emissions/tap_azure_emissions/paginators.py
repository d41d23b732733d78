"""ARM's two ways to page, each pointer checked before it is followed.

A next-page pointer must be new (the shared page guard remembers every one of the listing, and
bounds empty pages in a row), and (for links) lead back to the same ARM endpoint: following one
elsewhere would hand the bearer token to another host.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from carbon_taps_shared.messages import shown
from carbon_taps_shared.paging import PageGuard
from carbon_taps_shared.validation import UnexpectedDataError, checked_text
from singer_sdk.pagination import BaseAPIPaginator

from tap_azure_emissions.answers import ANSWER_HINT, json_object_answer


class CheckedPaginator(BaseAPIPaginator[str | None]):
    """The checks every pointer passes; subclasses say where the pointer is."""

    def __init__(self, where: str, endpoint: str | None = None) -> None:
        super().__init__(None)
        self.where = where
        self.endpoint = endpoint
        self.guard = PageGuard(where, support="Azure support")
        self._empty_page = False

    def pointer(self, response: requests.Response) -> Any:
        """The answer's next-page pointer, if any, as the answer has it."""
        raise NotImplementedError

    def get_next(self, response: requests.Response) -> str | None:
        """The checked pointer, once the page guard has seen it."""
        value = self._checked_pointer(response)
        rows = 0 if self._empty_page else 1  # the guard only asks whether the page was empty
        self._empty_page = False
        return self.guard.next_page(value, rows)

    def _checked_pointer(self, response: requests.Response) -> str | None:
        if not response.content:  # 204 No Content: the last (and only) page
            return None
        value = self.pointer(response)
        if value is None or value == "":
            return None
        value = checked_text(value, f"{self.where}: the next-page pointer", ANSWER_HINT)
        if self.endpoint is not None and _origin(value) != _origin(self.endpoint):
            raise UnexpectedDataError(
                f"{self.where}: the answer's nextLink {shown(value)} does not lead back to "
                f"arm_endpoint; not following it — {ANSWER_HINT}"
            )
        return value

    def continue_if_empty(self, response: requests.Response) -> bool:
        """An empty page with a next pointer is not the end (ARM may return one); the SDK then
        calls `advance`, where the guard counts it."""
        self._empty_page = True
        return self._checked_pointer(response) is not None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class NextLinkPaginator(CheckedPaginator):
    """ARM paging: the answer's `nextLink` (top level or under `properties`) is the next URL."""

    def pointer(self, response: requests.Response) -> Any:
        """The answer's `nextLink`, at the top or under `properties`."""
        body = json_object_answer(response, self.where)
        properties = body.get("properties")
        if "nextLink" not in body and isinstance(properties, Mapping):
            return properties.get("nextLink")
        return body.get("nextLink")


class SkipTokenPaginator(CheckedPaginator):
    """The answer's top-level `skipToken`; the next page is the same body plus that token."""

    def pointer(self, response: requests.Response) -> Any:
        """The answer's top-level skipToken, if any."""
        return json_object_answer(response, self.where).get("skipToken")
