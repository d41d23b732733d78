"""An S3 endpoint whose ListObjectsV2 never ends, in S3's own XML wire format.

moto always pages correctly, so the tap's guard against a listing that loops needs an endpoint
that does not: `cycle` hands back continuation tokens A -> B -> A, `endless_empty` answers empty
truncated pages each with a fresh token. Every page is `IsTruncated` and names the next token,
as S3 documents (`ListBucketResult`, namespace 2006-03-01).
"""

from __future__ import annotations

from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from tests.fakes._http import JsonFake, Reply, Request

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


class LoopingS3(JsonFake):
    def __init__(self, paging: str = "cycle") -> None:
        super().__init__()
        if paging not in ("cycle", "endless_empty"):
            raise ValueError(f"paging must be cycle or endless_empty, not {paging!r}")
        self.paging = paging

    def handle(self, request: Request) -> Reply:
        query = parse_qs(request.query)
        if request.method != "GET" or query.get("list-type") != ["2"]:
            return Reply(400, b"<Error><Code>InvalidRequest</Code></Error>")
        bucket = request.path.strip("/").split("/")[0]
        prefix = query.get("prefix", [""])[0]
        token = query.get("continuation-token", [""])[0]
        page = int(token.removeprefix("page-") or 0)
        if self.paging == "cycle":
            following = "page-1" if page != 1 else "page-0"  # 0 -> 1 -> 0 -> ...
            contents = (
                f"<Contents><Key>{escape(prefix)}data/part-{page}.csv</Key>"
                "<LastModified>2026-01-01T00:00:00.000Z</LastModified>"
                f"<ETag>&quot;etag{page}&quot;</ETag><Size>10</Size>"
                "<StorageClass>STANDARD</StorageClass></Contents>"
            )
        else:
            following, contents = f"page-{page + 1}", ""
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="{NS}">'
            f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>"
            f"<KeyCount>{1 if contents else 0}</KeyCount><MaxKeys>1000</MaxKeys>"
            "<IsTruncated>true</IsTruncated>"
            f"{contents}"
            + (f"<ContinuationToken>{token}</ContinuationToken>" if token else "")
            + f"<NextContinuationToken>{following}</NextContinuationToken></ListBucketResult>"
        )
        return Reply(200, body.encode(), {"Content-Type": "application/xml"})
