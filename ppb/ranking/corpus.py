"""A corpus the project generates for evaluating ranking: deterministic, no download.

Eight topics in four pairs; every channel mixes two whole pairs, and every simulated user
likes exactly one topic of each pair. So each channel is liked half the time by every user
and knowing the channel alone cannot beat one half: only reading the post can. Some posts
are cross-posts of another channel's story, to be collapsed. Two topics are in Russian.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

TOPICS: tuple[tuple[str, ...], ...] = (
    ("football", "striker", "goal", "league", "derby", "coach", "transfer", "goalkeeper",
     "penalty", "stadium", "midfielder", "season", "fans", "referee", "cup", "scored"),
    ("tennis", "serve", "racket", "grand slam", "set", "tiebreak", "wimbledon", "baseline",
     "ace", "backhand", "seed", "umpire", "court", "volley", "clay", "final"),
    ("stocks", "bond yields", "central bank", "inflation", "earnings", "shares", "investors",
     "index", "rates", "dividend", "bonds", "markets", "quarter", "profit", "treasury", "rally"),
    ("startup", "funding round", "venture", "founders", "seed capital", "valuation",
     "accelerator", "series a", "pitch", "angel", "unicorn", "burn rate", "cofounder",
     "runway", "demo day", "exit"),
    ("recipe", "oven", "garlic", "pasta", "simmer", "flour", "butter", "bake", "dough",
     "sauce", "onion", "roast", "spices", "dessert", "kitchen", "chef"),
    ("hiking", "trail", "summit", "backpack", "campsite", "glacier", "ridge", "tent", "boots",
     "valley", "waterfall", "compass", "altitude", "forest", "canyon", "trek"),
    ("погода", "дождь", "снег", "мороз", "ветер", "прогноз", "гроза", "туман", "жара",
     "температура", "циклон", "метель", "осадки", "ливень", "похолодание", "синоптики"),
    ("фильм", "режиссёр", "премьера", "актриса", "сериал", "кинотеатр", "сценарий",
     "трейлер", "фестиваль", "оскар", "съёмки", "продюсер", "зрители", "комедия",
     "драма", "прокат"),
)
PAIRS: tuple[tuple[int, int], ...] = ((0, 1), (2, 3), (4, 5), (6, 7))
CHANNEL_PAIRS: tuple[tuple[int, int], ...] = ((0, 1), (2, 3), (0, 2), (1, 3))
"""Which two topic pairs each channel carries."""
COMMON = (
    "today", "new", "update", "this week", "read more", "details", "big", "news", "people",
    "now", "report", "story", "latest", "sources say", "here is", "what we know",
)
TOPIC_WORDS, COMMON_WORDS, NOISE_WORDS = 7, 5, 2
COPY_SHARE = 0.1
"""Share of posts that are cross-posts of another channel's story."""


@dataclass(frozen=True, slots=True)
class Channel:
    index: int
    title: str
    topics: tuple[int, ...]
    signature: str


@dataclass(frozen=True, slots=True)
class Post:
    channel: int
    message_id: int
    topic: int
    text: str
    age_hours: float
    copy_of: tuple[int, int] | None = None
    """(channel, message_id) of the post this one re-tells."""


@dataclass(frozen=True, slots=True)
class Corpus:
    channels: tuple[Channel, ...]
    posts: tuple[Post, ...]


def channels() -> tuple[Channel, ...]:
    out = []
    for index, pairs in enumerate(CHANNEL_PAIRS):
        topics = tuple(topic for pair in pairs for topic in PAIRS[pair])
        out.append(Channel(index, f"Mixed digest {index + 1}", topics, f"#digest{index + 1}"))
    return tuple(out)


def generate(posts_per_channel: int = 100, seed: int = 7) -> Corpus:
    """`posts_per_channel` posts per channel (cross-posts newer than their story), always alike."""
    rng = random.Random(seed)
    chosen = channels()
    posts: list[Post] = []
    for step in range(posts_per_channel):
        for channel in chosen:
            message_id = step + 1
            age = (posts_per_channel - step) * 2.0 + channel.index * 0.25  # later is newer
            sources = [p for p in posts[-40:] if p.channel != channel.index and p.topic in channel.topics]
            if sources and rng.random() < COPY_SHARE:
                source = rng.choice(sources)
                text = f"{source.text} (via digest {source.channel + 1})"
                posts.append(
                    Post(channel.index, message_id, source.topic, text, age, (source.channel, source.message_id))
                )
                continue
            topic = channel.topics[(step + rng.randrange(4)) % 4]
            posts.append(Post(channel.index, message_id, topic, _text(rng, topic, channel), age))
    return Corpus(chosen, tuple(posts))


def _text(rng: random.Random, topic: int, channel: Channel) -> str:
    words = rng.sample(TOPICS[topic], TOPIC_WORDS) + rng.sample(COMMON, COMMON_WORDS)
    other = rng.choice([t for t in range(len(TOPICS)) if t != topic])
    words += rng.sample(TOPICS[other], NOISE_WORDS)  # a post mentions other things too
    rng.shuffle(words)
    return f"{' '.join(words).capitalize()}. {channel.signature}"


def preferences() -> list[frozenset[int]]:
    """Every user taste the corpus allows: one topic of each pair (16 of them)."""
    return [frozenset(choice) for choice in itertools.product(*PAIRS)]


def likes(taste: frozenset[int], post: Post) -> bool:
    return post.topic in taste
