"""Statements built once, at import, with named `bindparam`s, and run with each call's values.

Building a SQLAlchemy statement and computing its cache key costs a few hundred
microseconds for a join (more than SQLite takes to run it); a hot query built once costs
neither. On SQLite the statement is compiled once too and its values bound straight in
(`sqlite_inline.py`); on PostgreSQL `databases` gets a copy with the values filled in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.visitors import cloned_traverse


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


def bound(dialect: str, prepared: Prepared, values: dict[str, Any]) -> Any:
    """What to hand `databases`: the statement and its values as the backend runs them
    (elsewhere than SQLite, a copy with the values in its parameters, as `params()` makes
    for a SELECT, for INSERT and UPDATE too)."""
    if dialect == "sqlite":
        return Bound(prepared, values)

    def fill(parameter: Any) -> None:
        if parameter.key in values:
            parameter.value = values[parameter.key]
            parameter.required = False

    return cloned_traverse(prepared.statement, {"maintain_key": True, "detect_subquery_cols": True},
                           {"bindparam": fill})
