"""BigQuery identifiers, checked against Google's naming rules before they reach any SQL.

Values never go into SQL text (they are typed query parameters); identifiers cannot be
parameters, so they are validated here and then quoted with backticks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carbon_taps_shared.tapbase import TapUserError

# Project ids: 6-30 lowercase letters, digits, hyphens, starting with a letter; legacy
# domain-scoped ids carry a `domain:` prefix.
_PROJECT = re.compile(r"(?:[a-z][a-z0-9.-]{0,62}[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
# Datasets: letters, digits and underscores, up to 1024 characters.
_DATASET = re.compile(r"[A-Za-z0-9_]{1,1024}")
# Tables: Unicode letters, marks, numbers, connectors, dashes and spaces, up to 1024 bytes.
_TABLE = re.compile(r"[\w\-]+(?: [\w\-]+)*")


def check_project(value: str, setting: str) -> str:
    """``value`` if it is a Google Cloud project id, else a one-line error."""
    if not _PROJECT.fullmatch(value):
        raise TapUserError(
            f"{setting}: {value!r} is not a Google Cloud project id (6-30 lowercase letters, "
            "digits or hyphens, starting with a letter); use the id, not the display name"
        )
    return value


def check_dataset(value: str, setting: str) -> str:
    """``value`` if it is a BigQuery dataset name, else a one-line error."""
    if not _DATASET.fullmatch(value):
        raise TapUserError(
            f"{setting}: {value!r} is not a BigQuery dataset name (letters, digits and "
            "underscores only)"
        )
    return value


def check_table(value: str, setting: str) -> str:
    """``value`` if it is a BigQuery table name, else a one-line error."""
    if not _TABLE.fullmatch(value) or len(value.encode()) > 1024:
        raise TapUserError(
            f"{setting}: {value!r} is not a BigQuery table name (letters, digits, underscores, "
            "dashes; no dots, quotes or backticks)"
        )
    return value


@dataclass(frozen=True)
class TableRef:
    """A checked project.dataset.table reference."""

    project: str
    dataset: str
    table: str

    @property
    def sql(self) -> str:
        """Backtick-quoted for a FROM clause; every part was validated, so nothing can escape."""
        return f"`{self.project}.{self.dataset}.{self.table}`"

    @property
    def api_id(self) -> str:
        """The reference in the form the BigQuery API takes."""
        return f"{self.project}.{self.dataset}.{self.table}"

    def __str__(self) -> str:
        return self.api_id


def dataset_ref(value: str, default_project: str, setting: str) -> tuple[str, str]:
    """`dataset` or `project.dataset` -> (project, dataset)."""
    project, _, dataset = value.rpartition(".")
    return check_project(project or default_project, setting), check_dataset(dataset, setting)


def table_ref(value: str, default_project: str, setting: str) -> TableRef:
    """`dataset.table` or `project.dataset.table` -> a validated TableRef."""
    parts = value.rsplit(".", 2)
    if len(parts) == 2:
        parts = [default_project, *parts]
    if len(parts) != 3:
        raise TapUserError(
            f"{setting}: {value!r} must be `dataset.table` or `project.dataset.table`"
        )
    project, dataset, table = parts
    return TableRef(
        check_project(project, setting),
        check_dataset(dataset, setting),
        check_table(table, setting),
    )
