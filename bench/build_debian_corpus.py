"""Build the real-text evaluation corpus from Debian's package descriptions.

Debian's archive index describes every package in human-written paragraphs, labelled by
`Section:` (games, science, sound, ...), in English and, for a few thousand packages,
translated into Russian. Those paragraphs stand in for channel posts: short, written by
many hands, on topics that overlap in vocabulary (a game's sound, a science tool's plots).
Run `apt-get update -o Acquire::Languages=en,ru` first, then:

    python bench/build_debian_corpus.py [--out bench/data/debian-descriptions.jsonl.gz]

Each output line is `{"package", "section", "lang", "text"}`. Packages that only repackage
another (``-data``, ``-doc``, ``-dev``, ...) are left out, one package per source is kept,
and paragraphs shared by two packages (boilerplate) are dropped.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

LISTS = Path("/var/lib/apt/lists")
SECTIONS = (
    "games", "science", "math", "sound", "graphics", "net", "editors", "web",
    "mail", "database", "video", "electronics", "hamradio", "text",
)  # fmt: skip
DERIVED = re.compile(
    r"^lib|-(data|doc|docs|dev|dbg|common|examples|tests|l10n|locales|plugins?|tools|utils|"
    r"gtk|qt|cli|server|client|theme|themes|music|sounds|fonts|icons)$|-(data|common)-"
)
MIN_CHARS, MAX_CHARS = 120, 700
DEFAULT_OUT = Path(__file__).parent / "data" / "debian-descriptions.jsonl.gz"


def stanzas(path: Path) -> Iterator[dict[str, str]]:
    """The deb822 stanzas of an apt list (compressed as apt keeps it)."""
    text = subprocess.run(
        ["/usr/lib/apt/apt-helper", "cat-file", str(path)], check=True, capture_output=True
    ).stdout.decode()
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line[1:]
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields:
            yield fields


def largest(pattern: str) -> Path:
    """The main archive's list (not the small updates or security ones)."""
    return max(LISTS.glob(pattern), key=lambda path: path.stat().st_size)


def paragraphs(description: str) -> tuple[str, list[str]]:
    """The short line and the long description's paragraphs (a lone "." separates them)."""
    short, _, body = description.partition("\n")
    found, current = [], []
    for line in body.splitlines():
        if line.strip() == ".":
            found.append(" ".join(current))
            current = []
        else:
            current.append(line.strip())
    found.append(" ".join(current))
    return short.strip(), [paragraph for paragraph in found if paragraph]


def build(languages: dict[str, Path]) -> list[dict[str, str]]:
    index = largest("*_main_binary-*_Packages*")
    section_of, source_of = {}, {}
    for stanza in stanzas(index):
        name = stanza["Package"]
        section_of[name] = stanza.get("Section", "").rpartition("/")[2]
        source_of[name] = stanza.get("Source", name).split()[0]
    rows: list[dict[str, str]] = []
    for lang, path in languages.items():
        described = []
        for stanza in stanzas(path):
            name = stanza["Package"]
            if section_of.get(name) in SECTIONS and not DERIVED.search(name):
                described.append((name, *paragraphs(stanza[f"Description-{lang}"])))
        shared = Counter(p for _, _, found in described for p in set(found))
        sources: set[str] = set()
        for name, short, found in described:
            kept = [p for p in found if shared[p] == 1]
            text = " ".join([short.rstrip(".") + "."] + kept)
            if len(text) < MIN_CHARS or source_of[name] in sources:
                continue
            sources.add(source_of[name])
            if len(text) > MAX_CHARS:
                text = text[:MAX_CHARS].rsplit(" ", 1)[0] + "…"
            rows.append({"package": name, "section": section_of[name], "lang": lang, "text": text})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    languages = {
        lang: largest(f"*_main_i18n_Translation-{lang}*")
        for lang in ("en", "ru")
    }
    rows = build(languages)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out, "wt", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts = Counter((row["lang"], row["section"]) for row in rows)
    for (lang, section), count in sorted(counts.items()):
        print(f"{lang} {section:12} {count:5}")
    print(f"{len(rows)} descriptions -> {args.out}")


if __name__ == "__main__":
    main()
