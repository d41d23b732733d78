"""Carbon Footprint rows from exported files in a local folder (`bq extract` formats).

Newline-delimited JSON and Parquet keep the RECORD columns nested; CSV cannot hold RECORDs, so a
CSV must have been exported from a flattening query and may use dotted (`project.id`) or the
tap's own column names. Files are read in name order, optionally gzip-compressed.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq
from carbon_taps_shared.messages import short
from carbon_taps_shared.tapbase import TapUserError

SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".parquet")


class ExportFileError(TapUserError):
    """A file that cannot be read as it is; the message names the file and the row."""


def _format(path: Path) -> str | None:
    name = path.name.lower().removesuffix(".gz")
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return {"json": "ndjson", "jsonl": "ndjson"}.get(suffix[1:], suffix[1:])
    return None


def list_files(root: str) -> list[Path]:
    """The data files below ``root``, sorted."""
    folder = Path(root.removeprefix("file://")).expanduser()
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise TapUserError(
            f"carbon_footprint_uri: {folder} is not a folder or file; point it at the folder "
            "holding the `bq extract` output (NDJSON, CSV or Parquet)"
        )
    files = sorted(p for p in folder.rglob("*") if p.is_file() and _format(p))
    if not files:
        raise TapUserError(
            f"carbon_footprint_uri: {folder} holds no .json/.jsonl/.csv/.parquet files"
        )
    return files


def _open_text(path: Path) -> IO[str]:
    raw: IO[bytes] | gzip.GzipFile = path.open("rb")
    if path.name.lower().endswith(".gz"):
        raw = gzip.GzipFile(fileobj=raw)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def read_rows(
    path: Path, check_header: Callable[[list[str]], None] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, row) for every row of one file, in bounded memory.

    `check_header` sees a CSV file's column names before its first row, so a file whose header
    is wrong fails even when it has no rows.
    """
    kind = _format(path)
    try:
        if kind == "parquet":
            parquet = pq.ParquetFile(path)
            number = 0
            for batch in parquet.iter_batches(batch_size=5000):
                for row in batch.to_pylist():
                    number += 1
                    yield number, row
        elif kind == "csv":
            with _open_text(path) as text:
                reader = csv.DictReader(text, strict=True)  # an unbalanced quote is an error
                if check_header is not None and reader.fieldnames:
                    check_header([name.strip() for name in reader.fieldnames])
                for number, row in enumerate(reader, start=1):
                    if None in row or None in row.values():
                        raise ExportFileError(
                            f"{path} row {number}: not as many values as header columns; "
                            "re-export the file (bq extract --destination_format=CSV)"
                        )
                    yield number, {k.strip(): v for k, v in row.items()}
        else:
            with _open_text(path) as text:
                for number, line in enumerate(text, start=1):
                    if line.strip():
                        yield number, _json_object(line, path, number)
    except (OSError, EOFError, UnicodeDecodeError, pa.ArrowInvalid, csv.Error) as exc:
        reason = type(exc).__name__
        if isinstance(exc, csv.Error):
            reason = short(exc)
        raise ExportFileError(
            f"{path}: cannot be read ({reason}); re-export or remove it"
        ) from None


def _json_object(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except ValueError:
        row = None
    if not isinstance(row, dict):
        raise ExportFileError(
            f"{path} line {number}: not a JSON object; export with "
            "--destination_format=NEWLINE_DELIMITED_JSON"
        )
    return row
