"""`ScorerClient`: the ranker over the Scorer deployment's handle (`ppb.compose.serve.Scorer`),
beside the other clients of PPB's actors: any replica serves any user."""

from __future__ import annotations

from typing import Any

from ray.exceptions import RayError, RayTaskError
from ray.serve.exceptions import RayServeException

from ppb.core.scoring import Arrival
from ppb.domain.errors import Unavailable
from ppb.ranking.explain import Explanation
from ppb.store.queries import Row


class ScorerClient:
    """`Ranker` over the Scorer deployment's handle: any replica serves any user."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    async def train(self, user_id: int) -> tuple[int, float]:
        count, seconds = await self._call(self._handle.train.remote(user_id))
        return int(count), float(seconds)

    async def score_arrivals(self, user_ids: list[int], post_ids: list[int]) -> dict[int, Arrival]:
        return await self._call(self._handle.score_arrivals.remote(user_ids, post_ids))

    async def best(
        self, user_id: int, limit: int, variant: dict[str, Any] | None = None
    ) -> list[tuple[Row, float]]:
        result = await self._call(self._handle.best.remote((user_id, limit, variant)))
        if isinstance(result, BaseException):
            raise result
        return result

    async def explain(self, user_id: int, post_id: int, variant: dict[str, Any] | None = None) -> Explanation:
        """Why the post ranks where it does, from the replica that ranks (any replica: one
        without the user's last page ranks it again)."""
        result = await self._call(self._handle.explain.remote(user_id, post_id, variant))
        if isinstance(result, BaseException):
            raise result
        return result

    async def best_many(
        self, requests: list[tuple[int, int, dict[str, Any] | None]]
    ) -> list[list[tuple[Row, float]] | BaseException]:
        """Many users in one call to one replica (its batch path reads inputs once)."""
        return list(await self._call(self._handle.best_batch.remote(list(requests))))

    @staticmethod
    async def _call(response: Any) -> Any:
        try:
            return await response
        except RayTaskError:
            raise  # the Scorer's own error, an instance of its cause (a database error: 503)
        except (RayError, RayServeException) as error:
            raise Unavailable("ranking is unavailable; try again shortly") from error
