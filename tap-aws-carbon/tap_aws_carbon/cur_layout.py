"""Which delivery of a Cost and Usage Report is current for each billing period.

Legacy CUR: `<yyyymmdd-yyyymmdd>/<assemblyId>/<report>-<n>.csv.gz`, with the period's manifest
(`<yyyymmdd-yyyymmdd>/<report>-Manifest.json`, rewritten per delivery) naming the current
assembly and its `reportKeys`; overwrite mode uses `year=YYYY/month=M/` with the manifest beside
the data. CUR 2.0: `data/BILLING_PERIOD=YYYY-MM/[<ts>-<executionId>/]…` with manifests under
`metadata/`. Each delivery is cumulative for its period, so a new assembly or execution replaces
the period. Manifests win over listings: overwritten deliveries leave stale chunks behind.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass

from carbon_taps_shared.tapbase import TapUserError

from tap_aws_carbon.export_layout import MANIFEST_SUFFIX, file_format, load_manifest, resolve_keys
from tap_aws_carbon.sources import ExportSource, FileInfo

LEGACY_PERIOD = re.compile(r"(?:^|/)(?P<start>\d{8})-(?P<end>\d{8})/(?P<rest>.+)$")
LEGACY_OVERWRITE = re.compile(r"(?:^|/)year=(?P<year>\d{4})/month=(?P<month>\d{1,2})/(?P<rest>.+)$")
CUR2 = re.compile(
    r"(?:^|/)(?P<area>data|metadata)/BILLING_PERIOD=(?P<period>\d{4}-\d{2})/(?P<rest>.+)$"
)


@dataclass(frozen=True)
class Delivery:
    """The files of one billing period's current delivery."""

    billing_period: str  # YYYY-MM
    generation: str  # legacy | 2.0
    delivery_id: str  # assemblyId (legacy) or executionId (CUR 2.0)
    files: tuple[FileInfo, ...]

    @property
    def bookmark(self) -> str:
        """What the state remembers: another delivery id or a rewritten file changes it."""
        digest = hashlib.sha1(usedforsecurity=False)
        for info in self.files:
            digest.update(f"{info.key}\0{info.size}\0{info.fingerprint}\n".encode())
        return f"{self.delivery_id}:{digest.hexdigest()[:16]}"


@dataclass
class _Period:
    generation: str
    data: dict[str, FileInfo]
    manifests: list[tuple[str, FileInfo]]  # (folder below the period, manifest)


def _place(key: str) -> tuple[str, str, str, str] | None:
    """(generation, YYYY-MM, area, path below the period folder) of a key, if it is a CUR's."""
    if match := CUR2.search(key):
        return "2.0", match["period"], match["area"], match["rest"]
    if match := LEGACY_PERIOD.search(key):
        return "legacy", f"{match['start'][:4]}-{match['start'][4:6]}", "", match["rest"]
    if match := LEGACY_OVERWRITE.search(key):
        period = f"{match['year']}-{int(match['month']):02d}"
        return "legacy", period, "", match["rest"]
    return None


def plan_deliveries(source: ExportSource) -> list[Delivery]:
    """The current delivery of every billing period under the root, oldest period first."""
    periods: dict[str, _Period] = {}
    for info in source.list():
        is_manifest = info.key.endswith(MANIFEST_SUFFIX)
        if not is_manifest and not file_format(info.key):
            continue
        place = _place(info.key)
        if place is None:
            continue  # other files in the bucket (e.g. a CARBON_EMISSIONS export) are not ours
        generation, period, area, rest = place
        entry = periods.setdefault(period, _Period(generation, {}, []))
        if entry.generation != generation:
            raise TapUserError(
                f"{source.uri_of(info.key)}: {source.setting} holds both a legacy CUR and a CUR "
                f"2.0 export for {period}; point {source.setting} at one report"
            )
        folder = rest.rsplit("/", 1)[0] if "/" in rest else ""
        if is_manifest:
            entry.manifests.append((folder, info))
        elif area != "metadata":
            entry.data[info.key] = info
    deliveries = [_current(source, period, entry) for period, entry in sorted(periods.items())]
    return [d for d in deliveries if d is not None]


def _current(source: ExportSource, period: str, entry: _Period) -> Delivery | None:
    if entry.manifests:
        return _from_manifest(source, period, entry)
    if not entry.data:
        return None
    # No manifest: the delivery folder (assembly id, or `<ts>-<executionId>`) must be unique
    # for legacy CURs; CUR 2.0 folder names start with a timestamp, so the last one is newest.
    folders: dict[str, list[FileInfo]] = defaultdict(list)
    for key, info in entry.data.items():
        rest = _place(key)[3]  # type: ignore[index]  # entry.data holds only keys _place read
        folders[rest.rsplit("/", 1)[0] if "/" in rest else ""].append(info)
    if entry.generation == "legacy" and len(folders) > 1:
        raise TapUserError(
            f"{source.uri}: billing period {period} has {len(folders)} assembly folders and no "
            "manifest, so the current one is unknown; restore the period's …-Manifest.json"
        )
    folder = max(folders)
    files = tuple(sorted(folders[folder], key=lambda f: f.key))
    delivery_id = folder.rsplit("-", 1)[-1] if entry.generation == "2.0" else folder
    if not delivery_id:
        delivery_id = "listing-" + Delivery(period, "", "", files).bookmark.split(":")[1]
    return Delivery(period, entry.generation, delivery_id, files)


def _from_manifest(source: ExportSource, period: str, entry: _Period) -> Delivery:
    if entry.generation == "legacy":
        # The period-level manifest is the current one; copies inside assembly folders are
        # frozen history and count only when it is missing and there is exactly one.
        top = [m for folder, m in entry.manifests if not folder]
        chosen = top or [m for _, m in entry.manifests]
        if len(chosen) > 1:
            names = ", ".join(source.uri_of(m.key) for m in chosen)
            raise TapUserError(
                f"billing period {period} has several current manifests ({names}); "
                f"point {source.setting} at one report"
            )
        manifest = chosen[0]
        document = load_manifest(source, manifest, "reportKeys")
        bucket = document.get("bucket") or "bucket"
        references = [f"s3://{bucket}/{str(k).lstrip('/')}" for k in document["reportKeys"]]
        delivery_id = str(document.get("assemblyId") or "")
    else:
        # Create-new mode keeps every execution in a `<timestamp>-<executionId>` folder: the
        # newest timestamp is current. Overwrite mode has one manifest per period.
        _folder, manifest = max(entry.manifests, key=lambda m: (m[0], m[1].key))
        document = load_manifest(source, manifest, "dataFiles")
        references = document["dataFiles"]
        delivery_id = str(document.get("executionId") or "")
    where = source.uri_of(manifest.key)
    if not delivery_id:
        field = "assemblyId" if entry.generation == "legacy" else "executionId"
        raise TapUserError(f"{where}: the manifest has no {field}; re-run the report delivery")
    keys = resolve_keys(source, where, references, entry.data)
    files = tuple(entry.data[k] for k in keys)
    return Delivery(period, entry.generation, delivery_id, files)
