"""What every tap of the suite shares on top of singer-sdk's `Tap`.

Safe config validation (no value echoed), one-line failures a user can act on (the traceback goes
to the debug log), and one services object per run (retry policy, pacer, telemetry, clients)
handed to every stream.
"""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterable
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Generic

import click
from singer_sdk import Stream, Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError

from carbon_taps_shared.config import SecretSafeConfigMixin
from carbon_taps_shared.errors import ProviderError
from carbon_taps_shared.messages import short
from carbon_taps_shared.policy import RunDeadlineExceeded
from carbon_taps_shared.services import RunServices, S
from carbon_taps_shared.state import StateError, check_bookmarks, read_state


class TapUserError(Exception):
    """An error whose one-line message tells the user what is wrong and what to do."""


class CarbonTap(SecretSafeConfigMixin, Tap, Generic[S]):
    """Base tap: subclasses set `name`, `provider`, `config_jsonschema`, `discover_streams` and,
    when their streams need clients of their own, `build_services`."""

    provider: ClassVar[str] = "cloud"
    # msgspec encodes Singer messages ~1.4x faster than the default writer, same output shape.
    message_writer_class = MsgSpecWriter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        errors = self.setting_errors()
        if errors:
            raise ConfigValidationError("Config validation failed", errors=errors)

    def setting_errors(self) -> list[str]:
        """Rules a JSON schema cannot state, each as what to change; taps add their own."""
        return []

    # Where the --state the CLI was given came from, for messages about it.
    state_source: ClassVar[str] = "(the state passed to the tap)"

    @cached_property
    def services(self) -> S:
        """The run's services: built once, handed to every stream the tap creates."""
        return self.build_services()

    def build_services(self) -> S:
        """The services object of this tap's runs; taps with clients of their own extend it."""
        return RunServices(self.config, self.logger, self.name)  # type: ignore[return-value]  # taps that need more override this

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> Any:
        """Each --config file must be a JSON object of settings; say which one is not.

        Each file is read exactly once, here: `--config /dev/stdin` or `--config <(command)`
        (secrets kept off disk) is a pipe that cannot be read a second time.
        """
        merged: dict[str, Any] = {}
        for path in value:
            if path == "ENV":
                continue
            content: Any = None
            try:
                # Decimal floats, as the SDK's own reader parses config files.
                content = json.loads(Path(path).read_text(encoding="utf-8"), parse_float=Decimal)
                problem = None if isinstance(content, dict) else f"JSON {type(content).__name__}"
            except OSError as exc:
                problem = exc.strerror or type(exc).__name__
            except ValueError as exc:  # not JSON, or not UTF-8
                problem = f"not JSON: {short(exc)}"
            if problem:
                cls.logger.error(
                    "--config %s is not a JSON object of settings (%s); fix the file or point "
                    "--config at the right one",
                    path,
                    problem,
                )
                ctx.exit(1)
            merged.update(content)  # later files win, as in the SDK
        # The SDK's own callback sees only "ENV", so it reads no file a second time.
        config_input = super().cb_config(ctx, param, tuple(p for p in value if p == "ENV"))
        config_input.config = merged
        return config_input

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        """The SDK prints each settings error, then a bare summary; say it all in one line."""
        state = kwargs.get("state")
        if state is not None:  # the SDK would trust its shape and fail later with a traceback
            cls.state_source = str(getattr(state, "name", "--state"))
            try:
                kwargs["state"] = io.StringIO(read_state(state, cls.state_source))
            except StateError as exc:
                cls.logger.error("%s", exc)
                sys.exit(1)
        try:
            super().invoke(*args, **kwargs)
        except ConfigValidationError as exc:
            problems = "; ".join(exc.errors or []) or str(exc)
            cls.logger.error(
                "Config validation failed: %s. Fix these settings (meltano config, meltano.yml "
                "or the --config file).",
                problems,
            )
            sys.exit(1)

    def source_missing(self, stream_name: str) -> str | None:
        """Why `stream_name` has nothing to read with these settings (naming the setting that
        enables it), or None. Discovery lists every stream; a run skips the unconfigured ones."""
        return None

    def _skip_unconfigured_streams(self) -> None:
        """Deselect each selected stream whose source is not set, in one line; none left fails.

        Meltano selects every stream by default, so a user who configured only a file source
        gets a clean run of that source instead of a failure on the others."""
        selected = [stream for stream in self.streams.values() if stream.selected]
        reasons = []
        for stream in selected:
            reason = self._skip_reason(stream)
            if reason:
                stream.selected = False  # the SDK's own selection check then passes it over
                reasons.append(f"{stream.name}: {reason}")
        if selected and len(reasons) == len(selected):
            raise TapUserError("Nothing to read: " + "; ".join(reasons))

    def _skip_reason(self, stream: Stream) -> str | None:
        reason = self.source_missing(stream.name)
        if reason:
            self.logger.info("Stream %s skipped: %s", stream.name, reason)
        return reason

    def run_sync_dry_run(  # type: ignore[misc]  # singer-sdk marks it final; see docstring
        self, dry_run_record_limit: int | None = 1, streams: Iterable[Stream] | None = None
    ) -> bool:
        """`--test`, the connection test and singer-sdk's standard tests sync every stream
        directly, bypassing `sync_all`: leave out the streams with nothing to read here too."""
        wanted = self.streams.values() if streams is None else streams
        runnable = [stream for stream in wanted if not self._skip_reason(stream)]
        return super().run_sync_dry_run(dry_run_record_limit, runnable)

    def sync_all(self) -> None:  # type: ignore[misc]  # singer-sdk marks it final; run-level errors
        """Sync every stream; a user-facing failure ends the run in one line."""
        for stream in self.streams.values():
            stream.logger.addFilter(_REPORTED_FAILURE)
        try:
            self._skip_unconfigured_streams()
            self._check_bookmarks()
            _ = self.services.run_deadline  # the run's clock starts with the sync
            super().sync_all()
        except (ProviderError, TapUserError, StateError) as exc:
            self.logger.debug("Failure details", exc_info=True)
            self.logger.error("%s", exc)
            sys.exit(1)
        except RunDeadlineExceeded:
            self._stop_at_deadline()
        finally:
            self.services.telemetry.shutdown()

    def _check_bookmarks(self) -> None:
        """Refuse a bookmark that is not a date or lies in the future, before any request."""
        keys = {
            stream.name: stream.replication_key
            for stream in self.streams.values()
            if stream.selected and stream.replication_key
        }
        check_bookmarks(self.state, keys, self.state_source)

    def _stop_at_deadline(self) -> None:
        """Write the state of what was emitted (bookmarks only move with emitted records), then
        stop in one line; the next run resumes from that state."""
        self.logger.debug("Deadline details", exc_info=True)  # noqa: LOG014 - runs in an except
        self.state_writer.write_state(self.state)
        self.logger.error(
            "Run stopped: max_run_minutes (%s) passed, so no further request was started; the "
            "state of what was emitted is saved and the next run resumes from it. What to do: "
            "if the provider is throttling, lower max_requests_per_second or run at a quieter "
            "time; otherwise raise max_run_minutes (0 = no limit).",
            f"{float(self.config.get('max_run_minutes') or 0):g}",
        )
        sys.exit(1)


class _ReportedFailureFilter(logging.Filter):
    """Drops the SDK's "unhandled error" line for failures `sync_all` reports in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR or "An unhandled error occurred" not in str(record.msg):
            return True
        return not isinstance(sys.exc_info()[1], ProviderError | TapUserError)


_REPORTED_FAILURE = _ReportedFailureFilter()
