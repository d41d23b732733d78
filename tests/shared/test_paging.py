"""The shared page guard: every token remembered, empty pages bounded, one-line errors."""

from __future__ import annotations

import pytest
from carbon_taps_shared.paging import MAX_EMPTY_PAGES, PageGuard, PagingLoopError


def test_a_listing_of_fresh_tokens_is_followed_to_its_end() -> None:
    guard = PageGuard("stream x", support="the provider")
    assert [guard.next_page(t, 5) for t in ("A", "B", "C", None)] == ["A", "B", "C", None]


def test_a_token_seen_pages_ago_stops_the_listing_naming_both_pages() -> None:
    guard = PageGuard("carbon_emissions month 2025-01", support="AWS Support")
    guard.next_page("A", 5)
    guard.next_page("B", 5)
    with pytest.raises(PagingLoopError) as caught:
        guard.next_page("A", 5)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("carbon_emissions month 2025-01: page 3 points at")
    assert "page 1 already sent" in message and "AWS Support" in message


def test_empty_pages_with_fresh_tokens_are_bounded() -> None:
    guard = PageGuard("listing", support="the provider")
    for index in range(MAX_EMPTY_PAGES):
        guard.next_page(f"t{index}", 0)
    with pytest.raises(PagingLoopError, match=f"{MAX_EMPTY_PAGES + 1} empty pages in a row"):
        guard.next_page("one more", 0)


def test_a_page_with_rows_resets_the_empty_count_and_a_last_empty_page_is_fine() -> None:
    guard = PageGuard("listing", support="the provider", max_empty_pages=2)
    for index in range(10):
        guard.next_page(f"e{index}a", 0)
        guard.next_page(f"e{index}b", 0)
        guard.next_page(f"r{index}", 3)
    assert guard.next_page(None, 0) is None
