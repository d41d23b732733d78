"""Row-by-row readers for export files: CSV (plain or gzip) and Parquet, in bounded memory."""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from carbon_taps_shared.tapbase import TapUserError

from tap_aws_carbon.export_layout import ExportFile
from tap_aws_carbon.sources import ExportSource

if TYPE_CHECKING:
    import pyarrow.parquet as pq

PARQUET_BATCH_ROWS = 5000


class ExportFileError(TapUserError):
    """A file that cannot be read as it is; the message names the file and the row."""


@contextmanager
def open_rows(
    source: ExportSource, file: ExportFile
) -> Iterator[tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]]:
    """The file's column names and an iterator of (row number, row), row 1 being the first."""
    if file.format == "parquet":
        import pyarrow as pa  # imported on first use: ~50 MB a CSV-only run does not need
        import pyarrow.parquet as pq

        with source.local_copy(file.info.key) as path:
            try:
                parquet = pq.ParquetFile(path)
            except (pa.ArrowInvalid, OSError) as exc:
                reason = " ".join(str(exc).split())[:120]
                raise ExportFileError(
                    f"{file.uri}: not a readable Parquet file ({reason}); "
                    "re-deliver the file (re-run the export for that month) or remove it"
                ) from None
            yield list(parquet.schema_arrow.names), _parquet_rows(file, parquet)
        return
    with source.open(file.info.key) as raw:
        stream = gzip.GzipFile(fileobj=raw) if file.format == "csv.gz" else raw
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        reader = csv.DictReader(text, strict=True)  # an unbalanced quote is an error, not data
        try:
            columns = reader.fieldnames
        except (EOFError, OSError, zlib.error, UnicodeDecodeError, csv.Error) as exc:
            raise _broken(file, 0, exc) from None
        if not columns:
            raise ExportFileError(
                f"{file.uri}: the file is empty (no header row); re-deliver it or remove it"
            )
        yield [c.strip() for c in columns], _csv_rows(file, reader)


def _csv_rows(file: ExportFile, reader: csv.DictReader) -> Iterator[tuple[int, dict[str, Any]]]:
    number = 0
    try:
        for number, row in enumerate(reader, start=1):
            if None in row:
                raise ExportFileError(
                    f"{file.uri} row {number}: more values than header columns; the file is not "
                    "a clean CSV export — re-deliver it (re-run the export for that month)"
                )
            if any("\x00" in value for value in row.values() if value):
                raise ExportFileError(
                    f"{file.uri} row {number}: a NUL byte in the text; the file is not a clean "
                    "CSV export — re-deliver it (re-run the export for that month)"
                )
            yield number, {k.strip(): v for k, v in row.items()}
    except (EOFError, OSError, zlib.error, UnicodeDecodeError, csv.Error) as exc:
        raise _broken(file, number, exc) from None


def _parquet_rows(
    file: ExportFile, parquet: pq.ParquetFile
) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow as pa

    number = 0
    try:
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            for row in batch.to_pylist():
                number += 1
                yield number, row
    except (pa.ArrowInvalid, OSError) as exc:
        raise _broken(file, number, exc) from None


def _broken(file: ExportFile, after_row: int, exc: BaseException) -> ExportFileError:
    if isinstance(exc, UnicodeDecodeError):
        what = "is not UTF-8 text"
    elif isinstance(exc, csv.Error):
        what = f"is not clean CSV ({' '.join(str(exc).split())[:80]})"
    elif file.format == "csv.gz":
        what = "is a truncated or corrupt gzip"
    else:
        what = f"cannot be read ({type(exc).__name__})"
    return ExportFileError(
        f"{file.uri}: the file {what} (after row {after_row}); re-deliver the file "
        "(re-run the export for that month) or remove it"
    )
