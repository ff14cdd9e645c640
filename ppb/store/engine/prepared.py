"""Statements built once, at import, with named `bindparam`s, and run with each call's values.

Building a SQLAlchemy statement and computing its cache key costs a few hundred
microseconds for a join (more than SQLite takes to run it); a hot query built once costs
neither. On SQLite the statement is compiled once too and its values bound straight in
(`sqlite_inline.py`); on PostgreSQL `databases` gets a copy with the values filled in
(`PostgresEngine.bound`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ClauseElement


class Prepared:
    """A statement whose varying parts are `sa.bindparam(name)`s."""

    __slots__ = ("statement", "compiled")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self.compiled: dict[Any, Any] = {}
        """Its compiled form on SQLite (filled by `sqlite_inline.py`)."""


@dataclass(frozen=True, slots=True)
class Bound:
    """A prepared statement with this call's values, for SQLite's in-loop connection."""

    prepared: Prepared
    values: dict[str, Any]


def param(name: str, column: sa.Column[Any]) -> Any:
    """A named parameter of a statement built once, typed as the column it fills."""
    return sa.bindparam(name, type_=column.type)
