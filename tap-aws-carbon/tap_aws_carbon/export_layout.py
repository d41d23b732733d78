"""Which files make up a CARBON_EMISSIONS data export, and which partition each belongs to.

Data files sit under `[data/]<partition>/[<timestamp>-<execution id>/]<name>-00001.csv.gz` (or
`.csv`, `.snappy.parquet`); the partition is spelled `model_version=v3.0.1/usage_period=2026-01`
in AWS's documentation and `carbon_model_version=…/usage_period=…` in deliveries seen in the
wild. A manifest (`metadata/<partition>/…Manifest.json`) is written after all its data files and
lists them; where one exists its list wins over the folder listing, because an overwritten
delivery can leave stale chunks behind.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from carbon_taps_shared.tapbase import TapUserError

from tap_aws_carbon.sources import ExportSource, FileInfo

PARTITION = re.compile(
    r"(?:^|/)(?:carbon_)?model_version=(?P<model>[^/]+)/usage_period=(?P<period>\d{4}-\d{2})(?:/|$)"
)
FORMATS = {".csv.gz": "csv.gz", ".csv": "csv", ".parquet": "parquet"}
MANIFEST_SUFFIX = "Manifest.json"


@dataclass(frozen=True)
class ExportFile:
    """One data file of the export: its key, partition and format."""

    info: FileInfo
    uri: str
    model_version: str
    usage_period: str  # YYYY-MM
    format: str  # csv | csv.gz | parquet

    @property
    def bookmark(self) -> str:
        """What the state remembers: a rewritten object has another size or fingerprint."""
        return f"{self.info.size}:{self.info.fingerprint}"


def file_format(key: str) -> str | None:
    """The data format of a key (by its ending), or None for a file that is not data."""
    name = key.rsplit("/", 1)[-1].lower()
    return next((fmt for suffix, fmt in FORMATS.items() if name.endswith(suffix)), None)


def partition_of(key: str) -> tuple[str, str] | None:
    """(billing period, execution) of a key inside the export's layout, else None."""
    match = PARTITION.search(key)
    return (match["model"], match["period"]) if match else None


def plan_files(source: ExportSource) -> list[ExportFile]:
    """Every data file of the export, oldest period first, manifests winning over listings."""
    data: dict[str, FileInfo] = {}
    manifests: list[FileInfo] = []
    for info in source.list():
        if info.key.endswith(MANIFEST_SUFFIX):
            manifests.append(info)
        elif file_format(info.key):
            data[info.key] = info

    listed: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key in data:
        partition = partition_of(key)
        if partition is None:
            raise TapUserError(
                f"{source.uri_of(key)} is not under a model_version=…/usage_period=YYYY-MM/ "
                "folder; point carbon_export_uri at the export root or move the file"
            )
        listed[partition].append(key)

    for manifest in sorted(manifests, key=lambda m: m.key):  # a later delivery's manifest wins
        partition, keys = _read_manifest(source, manifest, data)
        listed[partition] = keys

    files = [
        ExportFile(
            info=data[key],
            uri=source.uri_of(key),
            model_version=model,
            usage_period=period,
            format=file_format(key) or "csv",
        )
        for (model, period), keys in listed.items()
        for key in keys
    ]
    return sorted(files, key=lambda f: (f.usage_period, f.model_version, f.info.key))


def _read_manifest(
    source: ExportSource, manifest: FileInfo, data: dict[str, FileInfo]
) -> tuple[tuple[str, str], list[str]]:
    where = source.uri_of(manifest.key)
    document = load_manifest(source, manifest, "dataFiles")
    keys = resolve_keys(source, where, document["dataFiles"], data)
    partition = partition_of(manifest.key) or (partition_of(keys[0]) if keys else None)
    if partition is None:
        raise TapUserError(f"{where}: cannot tell which model_version/usage_period it describes")
    return partition, keys


def load_manifest(source: ExportSource, manifest: FileInfo, list_key: str) -> dict[str, Any]:
    """A manifest's JSON document, which must hold a file list under `list_key`."""
    where = source.uri_of(manifest.key)
    try:
        with source.open(manifest.key) as handle:
            document: Any = json.load(handle)
        if not isinstance(document[list_key], list):
            raise TypeError
    except (ValueError, KeyError, TypeError) as exc:
        raise TapUserError(
            f"{where}: not a readable manifest (needs a {list_key} list); "
            "remove it or re-run the export"
        ) from exc
    return document


def resolve_keys(
    source: ExportSource, where: str, references: list[Any], data: dict[str, FileInfo]
) -> list[str]:
    """The data keys a manifest's file list means; a missing file means an incomplete delivery."""
    keys = []
    for reference in references:
        key = _resolve(source, str(reference), data)
        if key is None:
            raise TapUserError(
                f"{where} lists {reference}, which is not under {source.setting} or does not "
                "exist; the delivery is incomplete — wait for it to finish or re-run the export"
            )
        keys.append(key)
    return keys


def _resolve(source: ExportSource, reference: str, data: dict[str, FileInfo]) -> str | None:
    """The data key a manifest entry means.

    Entries are full s3:// URIs of the original delivery; a local copy of the export (or a
    bucket the files were synced to) keeps the layout below the root, so the entry's tail
    after the root names the same file.
    """
    key = source.key_of(reference)
    if key in data:
        return key
    candidates = [k for k in data if reference.endswith("/" + k)]
    return max(candidates, key=len) if candidates else None
