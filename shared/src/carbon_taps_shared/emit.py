"""A direct route from record to RECORD message for streams whose records need no reshaping.

singer-sdk sends every record through its generic path: a walk over the selection mask,
type conformance, then each stream map, then a RecordMessage object that its msgspec writer
turns back into a dict to encode. When nothing is deselected, no stream map or flattening is
configured, the stream declares its records JSON-ready (conformance NONE) and the tap writes
with the SDK's msgspec writer, that path returns the record unchanged, yet costs most of the
emit time (`benchmarks/run.py`: 70k records/s through the generic path, 280k through a
RecordMessage, about 450k this way). The mixin then builds the dict `RecordMessage.to_dict`
would build, key for key, and encodes it with the same SDK encoder (`serialize_jsonl`) to the
same stdout, flushing each message as the writer does; `tests/aws/test_direct_emit.py` holds
the two routes to the same bytes. In every other case it defers to the SDK.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

from singer_sdk.contrib.msgspec import MsgSpecWriter, serialize_jsonl
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform


class DirectEmitMixin:
    """Mix into a singer-sdk Stream (before Stream) whose records are built JSON-ready."""

    _direct_emit: bool | None = None
    _message_stream: str = ""

    def _write_record_message(self, record: dict[str, Any]) -> None:
        if self._direct_emit is None:
            self._direct_emit = self._record_passes_unchanged()
            self._message_stream = self.stream_maps[0].stream_alias  # type: ignore[attr-defined]
        if not self._direct_emit:
            super()._write_record_message(record)  # type: ignore[misc]
            return
        message: dict[str, Any] = {
            "type": "RECORD",
            "stream": self._message_stream,
            "record": record,
        }
        version = self._stream_version  # type: ignore[attr-defined]
        if version is not None:
            message["version"] = version
        message["time_extracted"] = datetime.now(UTC)
        out = sys.stdout.buffer
        out.write(serialize_jsonl(message))
        out.flush()
        self.state_manager.is_flushed = False  # type: ignore[attr-defined]

    def _record_passes_unchanged(self) -> bool:
        """True when the SDK's generic path would emit the record exactly as given."""
        maps = self.stream_maps  # type: ignore[attr-defined]
        return (
            self.TYPE_CONFORMANCE_LEVEL is TypeConformanceLevel.NONE  # type: ignore[attr-defined]
            and type(self._tap.message_writer) is MsgSpecWriter  # type: ignore[attr-defined]
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and not maps[0].flattening_enabled
            and all(self.mask.values())  # type: ignore[attr-defined]
        )
