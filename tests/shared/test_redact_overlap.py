"""A secret that contains another secret is masked whole, not around the shorter one.

Happens in practice: a token that starts with another configured value (a key id, a password
also set on its own). Where both match at one place, the alternation takes the first that fits,
so the longer value must come first; the other way round the rest of it is printed.
"""

from __future__ import annotations

from carbon_taps_shared.redaction import MASK, Redactor

SHORT = "Kq7vTz4e1c9a7b"
LONG = f"{SHORT}.Zr2-second-half-of-the-token-88"


def test_the_longer_of_two_nested_secrets_is_masked_whole() -> None:
    for order in ((SHORT, LONG), (LONG, SHORT)):
        redactor = Redactor(order)
        masked = redactor.redact(f"cannot connect with {LONG}; retrying")
        assert masked == f"cannot connect with {MASK}; retrying", masked
        assert redactor.redact(f"password {SHORT} refused") == f"password {MASK} refused"
