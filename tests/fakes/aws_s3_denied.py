"""An S3 endpoint that refuses every request the way S3 does for a missing IAM grant.

moto does not enforce IAM in server mode, so the access-denied path needs its own endpoint;
the answer is S3's REST error document (403, `AccessDenied`) for any bucket and key.
"""

from __future__ import annotations

from tests.fakes._http import JsonFake, Reply, Request

DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Access Denied</Message><RequestId>0000000000000000</RequestId></Error>"
)


class DeniedS3(JsonFake):
    def handle(self, request: Request) -> Reply:
        return Reply(403, DENIED, {"Content-Type": "application/xml"})
