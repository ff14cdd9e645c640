"""Rows of SQLite statements as the store reads them: by position, by name, `_mapping`,
`values()`, each value decoded by its column's SQLAlchemy type (a stored time back to a
`datetime`, a boolean from 0/1, JSON parsed), as SQLAlchemy itself would decode it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from databases.interfaces import Record as RecordInterface
from sqlalchemy.engine.interfaces import Dialect

Decode = Callable[[Any], Any] | None


class Record(RecordInterface):
    """One row: its values in order and the index of each column name (shared by the rows of
    one statement)."""

    __slots__ = ("values_", "names")

    def __init__(self, values: tuple[Any, ...], names: dict[str, int]) -> None:
        self.values_ = values
        self.names = names

    @property
    def _mapping(self) -> Mapping[str, Any]:
        return dict(zip(self.names, self.values_))

    def keys(self) -> list[str]:
        return list(self.names)

    def values(self) -> tuple[Any, ...]:
        return self.values_

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self.values_[self.names[key]]
        return self.values_[key]

    def __iter__(self) -> Iterator[str]:  # as `databases`' records: a row iterates its names
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.values_)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values_[self.names[name]]
        except KeyError as error:
            raise AttributeError(name) from error

    def __repr__(self) -> str:
        return f"Record({self._mapping!r})"


class RowReader:
    """Reads the rows of one compiled statement: the decoders come from its result columns'
    types (`exported_columns`: a SELECT's columns, an INSERT's RETURNING), the names from the
    first cursor's description."""

    __slots__ = ("decoders", "names")

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        columns = list(getattr(statement, "exported_columns", ()) or ())
        decoders: list[Decode] = []
        for column in columns:
            kind = getattr(column, "type", None)
            decoders.append(None if kind is None else kind.dialect_impl(dialect).result_processor(dialect, None))
        self.decoders: list[Decode] | None = decoders if any(decoders) else None
        self.names: dict[str, int] | None = None

    def read(self, description: Sequence[Sequence[Any]], rows: list[tuple[Any, ...]]) -> list[Record]:
        names = self.names
        if names is None:
            names = {}
            for index, column in enumerate(description):
                names.setdefault(column[0], index)
            self.names = names
            if self.decoders is not None and len(self.decoders) != len(description):
                self.decoders = None  # not the statement's own columns (a textual statement): as they are
        decoders = self.decoders
        if decoders is None:
            return [Record(row, names) for row in rows]
        pairs = [(index, decode) for index, decode in enumerate(decoders) if decode is not None]
        records = []
        for row in rows:
            values = list(row)
            for index, decode in pairs:
                value = values[index]
                if value is not None:
                    values[index] = decode(value)
            records.append(Record(tuple(values), names))
        return records
