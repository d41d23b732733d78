"""One guard for every paged listing of the suite: no page token twice, no endless empty pages.

A provider that hands back a token it already sent (A -> B -> A) or keeps answering empty pages
each with a fresh token would make a tap loop forever, sending thousands of requests and loading
the same records again and again. Checking only the previous token misses both, so the guard
remembers a digest of every token of the listing (16 bytes each, whatever the token's length) and
counts empty pages in a row.
"""

from __future__ import annotations

import hashlib

from carbon_taps_shared.tapbase import TapUserError

# Consecutive empty pages that still carry a next-page token before a listing is called endless.
# ARM documents that a page may be empty while more follow, and BigQuery may send an empty page
# while a query finishes, but no provider of the suite sends more than one or two in a row; 10
# leaves room for that and still stops an endless listing after a few seconds of requests.
MAX_EMPTY_PAGES = 10


class PagingLoopError(TapUserError):
    """A listing that would never end: a page token seen before, or endless empty pages."""


class PageGuard:
    """Feed it each page's row count and next-page token, in order; it raises on a loop."""

    def __init__(self, where: str, *, support: str, max_empty_pages: int = MAX_EMPTY_PAGES):
        self.where = where  # names the listing: stream, period, operation
        self.support = support  # who to report a persistent loop to, e.g. "AWS Support"
        self.max_empty_pages = max_empty_pages
        self.pages = 0
        self._seen: dict[bytes, int] = {}  # token digest -> page that sent it
        self._empty_in_a_row = 0

    def next_page(self, token: str | None, rows: int) -> str | None:
        """`token` is the next-page pointer of a page holding `rows` rows (None: the last page).

        Returns the token when it may be followed; raises `PagingLoopError` when following it
        would repeat a page already read or extend a run of empty pages past the bound.
        """
        self.pages += 1
        if token is None:
            return None
        self._empty_in_a_row = self._empty_in_a_row + 1 if rows == 0 else 0
        if self._empty_in_a_row > self.max_empty_pages:
            raise PagingLoopError(
                f"{self.where}: {self._empty_in_a_row} empty pages in a row, each pointing at "
                f"another (an endless listing; the limit is {self.max_empty_pages}); not "
                f"following it — {self._advice()}"
            )
        digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        first = self._seen.get(digest)
        if first is not None:
            raise PagingLoopError(
                f"{self.where}: page {self.pages} points at the page token page {first} already "
                f"sent (an endless loop); not following it — {self._advice()}"
            )
        self._seen[digest] = self.pages
        return token

    def _advice(self) -> str:
        return f"re-run later, and report it to {self.support} if it persists"
