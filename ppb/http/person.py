"""`PersonData` for `LocalPpb`: a person's rules and data rights with the REST API's own
validation (the same 422 texts) and erasure (every table, then Redis)."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from ppb.config import Settings
from ppb.core import data_rights
from ppb.core import rules as core_rules
from ppb.domain.errors import Invalid
from ppb.http.body import describe
from ppb.http.data_rights import erase_redis
from ppb.http.rules import RulesIn, changes_of, rules_out
from ppb.store.queries import Store, utcnow


class StorePersonData:
    def __init__(self, settings: Settings, store: Store) -> None:
        self._settings = settings
        self._store = store

    async def rules(self, telegram_id: int) -> dict[str, Any]:
        user_id = await self._store.user_id(telegram_id)
        rules = await core_rules.read(self._store, user_id)
        return (await rules_out(self._store, user_id, rules)).model_dump(mode="json")

    async def change_rules(self, telegram_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        try:
            body = RulesIn.model_validate_json(orjson.dumps(changes))  # as the REST body is read
        except ValidationError as error:
            raise Invalid(describe(error)) from None
        user_id = await self._store.user_id(telegram_id)
        changes = await changes_of(self._store, body)
        rules = await core_rules.update(self._store, user_id, changes)
        return (await rules_out(self._store, user_id, rules)).model_dump(mode="json")

    async def export(self, telegram_id: int) -> dict[str, Any]:
        return await data_rights.export(self._store, telegram_id, utcnow())

    async def erase(self, telegram_id: int) -> None:
        await data_rights.erase(self._store, telegram_id)
        await erase_redis(self._settings, telegram_id)
