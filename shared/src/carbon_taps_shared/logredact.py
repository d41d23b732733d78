"""Keep secrets out of every log handler, including ones configured after us."""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections.abc import Mapping
from typing import Any

from carbon_taps_shared.redactor import MASK, Redactor

_install_lock = threading.Lock()


def _format_exception(exc_info: Any) -> str:
    return "".join(traceback.format_exception(*exc_info)).rstrip("\n")


def redact_record(record: logging.LogRecord, redactors: list[Redactor]) -> None:
    """Freeze the record's text in redacted form.

    Arguments are merged into the message first because a secret may sit in an
    argument, and exception text is rendered now because handlers would otherwise
    format the raw traceback themselves. ``exc_info`` is cleared for that reason:
    the redacted traceback lives on in ``exc_text``, which formatters print.
    Idempotent, so a record seen by both the factory and a filter is just
    checked twice; no "already done" mark that later edits could slip past.
    """

    def scrub(text: str) -> str:
        for redactor in redactors:
            text = redactor.redact(text)
        return text

    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not break logging
        message = f"{record.msg!s} {record.args!r}"
    record.msg = scrub(message)
    record.args = None
    if record.exc_info and record.exc_info != (None, None, None):
        record.exc_text = scrub(_format_exception(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    # `extra=` fields: google-auth logs each request's headers and body there at DEBUG, and a
    # structured (JSON) formatter prints them all.
    for name in [n for n in record.__dict__ if n not in _STANDARD_ATTRIBUTES]:
        record.__dict__[name] = _scrub_value(record.__dict__[name], scrub)


# Everything a LogRecord has without `extra=`; the rest came from the caller.
_STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_SECRET_KEY = re.compile(
    r"(?:^|[-_])(?:authorization|secret|token|password|passwd|assertion|private_key|"
    r"client_secret|access_key|signature|credential)s?$|(?:secretaccesskey|sessiontoken|"
    r"accesstoken|refreshtoken|idtoken)$",
    re.IGNORECASE,
)


def _scrub_value(value: Any, scrub: Any, depth: int = 0) -> Any:
    """A redacted copy: text scrubbed, values under credential-named keys masked outright."""
    if depth > 20:
        return MASK
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, bytes):
        return scrub(value.decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {
            key: MASK
            if isinstance(key, str) and _SECRET_KEY.search(key) and value[key] not in (None, "")
            else _scrub_value(value[key], scrub, depth + 1)
            for key in value
        }
    if isinstance(value, list | tuple | set):
        return [_scrub_value(item, scrub, depth + 1) for item in value]
    return value


class RedactingFilter(logging.Filter):
    """Handler filter that rewrites records instead of dropping them."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record, [self.redactor])
        return True


class _RedactingRecordFactory:
    """Wraps the process-wide record factory so every record is born redacted."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.redactors: list[Redactor] = []

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        redact_record(record, self.redactors)
        return record


def install_log_redaction(redactor: Redactor, logger: logging.Logger | None = None) -> None:
    """Redact every log record in the process with ``redactor``.

    Two layers, because each alone has a gap. The record factory catches every
    record created through ``Logger.makeRecord`` no matter which handler (present
    or added later, e.g. by the SDK's logging config) ends up emitting it. The
    handler filters on the root logger and ``logger`` catch records built by
    other means (``logging.makeLogRecord``, records shipped between processes).
    Calling this again with the same redactor changes nothing.
    """
    with _install_lock:
        factory = logging.getLogRecordFactory()
        if not isinstance(factory, _RedactingRecordFactory):
            factory = _RedactingRecordFactory(factory)
            logging.setLogRecordFactory(factory)
        if redactor not in factory.redactors:
            factory.redactors.append(redactor)

        loggers = [logging.getLogger()]
        if logger is not None and logger not in loggers:
            loggers.append(logger)
        for each in loggers:
            for handler in each.handlers:
                already = any(
                    isinstance(f, RedactingFilter) and f.redactor is redactor
                    for f in handler.filters
                )
                if not already:
                    handler.addFilter(RedactingFilter(redactor))
