"""`/api/v1/admin/experiments`: A/B tests of ranking variants and their results."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, model_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ppb.domain.errors import Conflict
from ppb.domain.experiments import SIGNIFICANCE, parse_variants, two_proportion_z, wilson
from ppb.http.admin_auth import operator
from ppb.http.admin_io import out, services
from ppb.http.body import parse_body, path_int
from ppb.http.schemas import Body
from ppb.ranking import DEFAULT_PARAMS
from ppb.store.admin import Admin
from ppb.store.experiments import Experiments
from ppb.store.queries import Row


class RankingSettings(Body):
    """The ranking settings (`ppb.ranking.Params`) an arm overrides; one left out keeps the
    default model's value. Bounds keep the model fittable and a page a page."""

    model_config = ConfigDict(extra="forbid")

    regularization: Annotated[float, Field(gt=0, le=1000, description=(
        "How much the model trusts a person's own ratings (the regression's C: larger fits them more closely)"))] | None = None
    skip_weight: Annotated[float, Field(ge=0, le=1, description=(
        "How much a skip counts as a dislike (0: not at all, 1: as much)"))] | None = None
    spread_weight: Annotated[float, Field(ge=0, le=10, description=(
        "How much posts written like the liked ones are lifted (the spread over the corpus; 0: off)"))] | None = None
    exploration: Annotated[float, Field(ge=0, le=0.5, description=(
        "Share of a feed page given to the posts the model knows least about"))] | None = None
    collaborative: Annotated[float, Field(ge=0, le=1, description=(
        "How much the ratings of the most alike people seed the ranking (0: only the person's own)"))] | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_names(cls, value: Any) -> Any:
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(cls.model_fields))
            if unknown:
                raise ValueError(f"unknown ranking settings: {', '.join(map(str, unknown))}; "
                                 f"known: {', '.join(cls.model_fields)}")
        return value

    def overrides(self) -> dict[str, float]:
        return self.model_dump(exclude_none=True)


def settings_catalogue() -> list[dict[str, Any]]:
    """Each ranking setting a variant may override: its name, what it does, its bounds and
    the default model's value (what the console offers as fields)."""
    found = []
    for name, spec in RankingSettings.model_json_schema()["properties"].items():
        number = next(option for option in spec["anyOf"] if option.get("type") == "number")
        found.append({
            "name": name, "description": spec.get("description") or number["description"],
            "default": getattr(DEFAULT_PARAMS, name),
            "minimum": number.get("minimum", number.get("exclusiveMinimum")),
            "exclusive_minimum": "exclusiveMinimum" in number, "maximum": number["maximum"],
        })
    return found


class VariantIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    weight: Annotated[float, Field(gt=0, le=1000)] = 1.0
    settings: RankingSettings = Field(default_factory=RankingSettings)
    """Ranking settings this arm overrides (`{}`: the default model)."""


class NewExperiment(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "more-exploration", "variants": [{"name": "control"}, {"name": "explore", "settings": {"exploration": 0.2}}]}]})

    name: Annotated[str, Field(min_length=1, max_length=128)]
    variants: Annotated[list[VariantIn], Field(min_length=2, max_length=10)]
    start: bool = False


def results(experiment: Row, tallies: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Per variant: like rate of feed posts with its 95% Wilson interval, the ratings, and a
    two-proportion z-test against the control (the first variant)."""
    variants = [v["name"] for v in experiment["variants"]]
    empty = {"users": 0, "ratings": 0, "likes": 0}
    control = tallies.get(variants[0], empty)
    rows = []
    for index, name in enumerate(variants):
        t = tallies.get(name, empty)
        low, high = wilson(t["likes"], t["ratings"])
        row: dict[str, Any] = {
            "variant": name, "control": index == 0, "users": t["users"], "ratings": t["ratings"],
            "likes": t["likes"], "like_rate": round(t["likes"] / t["ratings"], 4) if t["ratings"] else None,
            "ci_low": round(low, 4), "ci_high": round(high, 4),
        }
        if index:
            z, p = two_proportion_z(control["likes"], control["ratings"], t["likes"], t["ratings"])
            row |= {"z": round(z, 3), "p_value": round(p, 4), "significant": p < SIGNIFICANCE}
        rows.append(row)
    return rows


async def _full(store_experiments: Experiments, experiment: Row) -> dict[str, Any]:
    tallies = await store_experiments.tallies(experiment)
    return {**Experiments.describe(experiment), "results": results(experiment, tallies)}


async def known_settings(request: Request) -> Response:
    return out({"settings": settings_catalogue()})


async def list_experiments(request: Request) -> Response:
    return out({"experiments": [Experiments.describe(e) for e in await Experiments(services(request).store).all()]})


async def create(request: Request) -> Response:
    body = await parse_body(request, NewExperiment)
    store = services(request).store
    variants = parse_variants([{**v.model_dump(), "settings": v.settings.overrides()} for v in body.variants])
    experiments = Experiments(store)
    if body.start:  # refused before anything is created, not after (which left a draft behind)
        other = await experiments.running()
        if other is not None:
            raise Conflict(f"start: experiment {other['id']} ({other['name']!r}) is running; stop it first "
                           "(nothing was created)")
    experiment = await experiments.create(body.name, variants, operator(request))
    await Admin(store).log(operator(request), "experiment:create", f"experiment:{experiment['id']}",
                           {"name": body.name, "variants": [v.name for v in variants]})
    if body.start:
        experiment = await _start(request, experiments, int(experiment["id"]))
    return out(await _full(experiments, experiment), 201)


async def _start(request: Request, experiments: Experiments, experiment_id: int) -> Row:
    experiment = await experiments.start(experiment_id)
    await Admin(services(request).store).log(operator(request), "experiment:start", f"experiment:{experiment_id}")
    return experiment


async def show(request: Request) -> Response:
    experiments = Experiments(services(request).store)
    return out(await _full(experiments, await experiments.get(path_int(request, "experiment_id"))))


async def start(request: Request) -> Response:
    experiments = Experiments(services(request).store)
    return out(await _full(experiments, await _start(request, experiments, path_int(request, "experiment_id"))))


async def stop(request: Request) -> Response:
    experiment_id = path_int(request, "experiment_id")
    experiments = Experiments(services(request).store)
    experiment = await experiments.stop(experiment_id)
    await Admin(services(request).store).log(operator(request), "experiment:stop", f"experiment:{experiment_id}")
    return out(await _full(experiments, experiment))


routes = [
    Route("/experiments", list_experiments, methods=["GET"]),
    Route("/experiments", create, methods=["POST"]),
    Route("/experiments/settings", known_settings, methods=["GET"]),
    Route("/experiments/{experiment_id}", show, methods=["GET"]),
    Route("/experiments/{experiment_id}/start", start, methods=["POST"]),
    Route("/experiments/{experiment_id}/stop", stop, methods=["POST"]),
]
