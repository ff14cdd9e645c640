"""The ranker, built here and nowhere else: ranking in this process, or the Scorer deployment's client."""

from __future__ import annotations

from typing import Any

from ppb.compose.names import APP_NAME, SCORER
from ppb.config import Settings
from ppb.core.ports import Ranker
from ppb.core.scoring import Scoring
from ppb.store.queries import Store


def scoring(settings: Settings, store: Store) -> Scoring:
    """Ranking in this process (a Scorer replica, `ppb api --bare`, tests)."""
    return Scoring.from_settings(store, settings)


def ranker(settings: Settings, store: Store, *, scorer: Any = None) -> Ranker:
    """The Scorer deployment's client when given its handle, else ranking in this process."""
    if scorer is None:
        return scoring(settings, store)
    from ppb.actors.scorer_client import ScorerClient  # Ray's: imported only where a Scorer runs

    return ScorerClient(scorer)


def scorer_handle() -> Any:
    """The running Scorer deployment's handle (processes outside Serve: the bot, the nudger)."""
    from ray import serve

    return serve.get_deployment_handle(SCORER, app_name=APP_NAME)
