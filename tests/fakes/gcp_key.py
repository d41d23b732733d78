"""One RSA service-account key per test session, generated at import (never stored on disk)."""

from __future__ import annotations

import uuid
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_KEY = PRIVATE_KEY.public_key()
PRIVATE_PEM = PRIVATE_KEY.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
).decode()
# A line from the middle of the PEM body: if any output shows it, the key leaked.
SECRET_MARKER = PRIVATE_PEM.splitlines()[5]


def service_account_info(token_uri: str, project: str) -> dict[str, Any]:
    """The key as a service-account key file's JSON, its token_uri pointing at a fake."""
    return {
        "type": "service_account",
        "project_id": project,
        "private_key_id": uuid.uuid4().hex,
        "private_key": PRIVATE_PEM,
        "client_email": f"carbon-tap@{project}.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": token_uri,
    }
