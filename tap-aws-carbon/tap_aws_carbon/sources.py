"""Where export files live: an S3 prefix (through boto3) or a local folder with the same layout."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from carbon_taps_shared.errors import ErrorClass, ProviderError, classify
from carbon_taps_shared.paging import PageGuard
from carbon_taps_shared.tapbase import TapUserError

from tap_aws_carbon.client import failure_named


@dataclass(frozen=True)
class FileInfo:
    """One object under the export root; `fingerprint` changes when the object is rewritten."""

    key: str  # path relative to the export root, with forward slashes
    size: int
    fingerprint: str  # S3 ETag, or the local file's mtime in nanoseconds


class ExportSource(Protocol):
    """Where the export's files live: a local folder or an S3 prefix."""

    uri: str
    setting: str  # the tap setting that names this root, for messages
    spools: bool  # local_copy writes a temporary copy (disk use grows with files held at once)

    def list(self) -> Iterator[FileInfo]:
        """Every file below the root."""

    def open(self, key: str) -> Any:
        """A context manager yielding the file as a binary stream."""

    def local_copy(self, key: str) -> Any:
        """A context manager yielding a seekable local path of the file."""

    def uri_of(self, key: str) -> str:
        """The file's URI, for messages."""

    def key_of(self, uri: str) -> str | None:
        """The key of a URI below the root, else None."""


class LocalSource:
    """A folder on disk laid out like the S3 export (air-gapped use, the demo)."""

    spools = False

    def __init__(self, root: str, setting: str = "carbon_export_uri") -> None:
        self.root = Path(root.removeprefix("file://")).expanduser().resolve()
        self.uri = str(self.root)
        self.setting = setting
        if not self.root.is_dir():
            raise TapUserError(
                f"{setting}: {self.root} is not a folder; point it at the export root "
                "(the folder holding data/ and metadata/) or an s3://bucket/prefix"
            )

    def list(self) -> Iterator[FileInfo]:
        """Every file below the folder."""
        for folder, _dirs, files in os.walk(self.root):
            for name in sorted(files):
                path = Path(folder) / name
                stat = path.stat()
                key = path.relative_to(self.root).as_posix()
                yield FileInfo(key, stat.st_size, str(stat.st_mtime_ns))

    @contextmanager
    def open(self, key: str) -> Iterator[IO[bytes]]:
        """The file, opened for reading bytes."""
        with (self.root / key).open("rb") as handle:
            yield handle

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """The file itself: it is already local."""
        yield self.root / key

    def uri_of(self, key: str) -> str:
        """The file's path as a URI."""
        return str(self.root / key)

    def key_of(self, uri: str) -> str | None:
        """A manifest's file reference as a key: its path below the root, wherever it points."""
        return _suffix_key(uri, self.root.as_posix())


class S3Source:
    """An s3://bucket/prefix read with boto3's paginator and streaming bodies."""

    spools = True

    def __init__(self, uri: str, client: Any, setting: str = "carbon_export_uri") -> None:
        parts = urlsplit(uri)
        self.setting = setting
        if not parts.netloc:
            raise TapUserError(f"{setting} {uri!r} has no bucket; use s3://bucket/prefix")
        self.uri = uri.rstrip("/")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self._client = client

    def _full(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def list(self) -> Iterator[FileInfo]:
        """Every object below the prefix, through the shared page guard."""
        paginator = self._client.get_paginator("list_objects_v2")
        start = f"{self.prefix}/" if self.prefix else ""
        # botocore's paginator catches only a token repeated twice in a row.
        guard = PageGuard(f"{self.setting} S3 listing of {self.uri}", support="AWS Support")
        with self._errors("ListObjectsV2", "s3:ListBucket", f"arn:aws:s3:::{self.bucket}"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
                contents = page.get("Contents", [])
                token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
                guard.next_page(token, len(contents))  # before its rows: a repeat adds none
                for item in contents:
                    key = item["Key"][len(start) :]
                    if key and not key.endswith("/"):
                        yield FileInfo(key, int(item["Size"]), item["ETag"].strip('"'))

    @contextmanager
    def open(self, key: str) -> Iterator[IO[bytes]]:
        """The object's body as a stream."""
        resource = f"arn:aws:s3:::{self.bucket}/{self._full(key)}"
        with self._errors("GetObject", "s3:GetObject", resource):
            body = self._client.get_object(Bucket=self.bucket, Key=self._full(key))["Body"]
        try:
            yield body
        finally:
            body.close()

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """Parquet needs random access: spool the object to a temporary file, not to memory."""
        with tempfile.NamedTemporaryFile(suffix=Path(key).name) as spool:
            with self.open(key) as body:
                shutil.copyfileobj(body, spool, length=1 << 20)
            spool.flush()
            yield Path(spool.name)

    def uri_of(self, key: str) -> str:
        """The object's s3:// URI."""
        return f"s3://{self.bucket}/{self._full(key)}"

    def key_of(self, uri: str) -> str | None:
        """The key of an s3:// URI below the prefix, else None."""
        return _suffix_key(uri, f"s3://{self.bucket}/{self.prefix}".rstrip("/"))

    @contextmanager
    def _errors(self, operation: str, action: str, resource: str) -> Iterator[None]:
        try:
            yield
        except (BotoCoreError, ClientError) as exc:
            cls = classify(exc)
            hint = None
            if cls.error_class is ErrorClass.AUTH:
                hint = f"grant {action} on {resource} to the identity the tap runs as"
            elif cls.error_class is ErrorClass.NOT_FOUND:
                hint = f"check {self.setting}: the bucket or object does not exist"
            # a refused role_arn or a bad region surfaces inside the S3 call; name that instead
            failed, hint = failure_named(exc, f"S3 {operation}", hint)
            raise ProviderError(cls, provider="aws", operation=failed, hint=hint) from exc


def _suffix_key(uri: str, root: str) -> str | None:
    uri = uri.removeprefix("file://")
    if uri.startswith(root + "/"):
        return uri[len(root) + 1 :]
    return None
