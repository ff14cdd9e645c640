"""Build the multilingual evaluation corpus from Debian packages' message catalogues.

Free software ships its interface text translated by people (gettext `.mo` catalogues under
`usr/share/locale/<lang>/LC_MESSAGES`, or the package's own locale folder): short,
human-written sentences in dozens of languages, each tied to an English original. A message
of a package stands in for a post on that package's subject (a strategy game's unit help, a
planetarium's sky notes, a mail client's warnings...). Each topic is a few packages on one
subject; the packages are fetched with `apt-get download` (no install) and unpacked with
`dpkg-deb`, so the corpus rebuilds from the archive alone:

    python bench/build_debian_messages.py [--out bench/data/debian-messages.jsonl.gz] [--debs DIR]

Each output line is `{"topic", "package", "texts": {"en": ..., "ru": ..., ...}}`. Kept are
messages that read as prose: at least 5 English words once placeholders (`%s`, `%1$d`,
`{0}`, `$name`), mnemonics (`_Open`, `&Open`) and markup are stripped, mostly letters, not a
usage line or code. Near-duplicates (TF-IDF cosine >= 0.8 over the English) are kept once
within a topic and dropped entirely when they span topics (generic text: "Could not open
the file"). Every topic is then sampled down to at most `PER_TOPIC` messages, with at most
`PER_PACKAGE` from one catalogue package, preferring messages translated into Russian.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import random
import re
import subprocess
import tarfile
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

TOPICS: dict[str, tuple[str, ...]] = {
    "strategy games": ("freeciv-data", "wesnoth-1.16-data", "widelands-data"),
    "astronomy": ("kstars-data", "gpredict"),
    "personal finance": ("gnucash-common", "homebank-data", "skrooge-common", "grisbi-common"),
    "graphics": ("gimp-data", "inkscape"),
    "audio": ("audacity-data", "rhythmbox-data", "sound-juicer", "easytag"),
    "mail": ("evolution-common", "claws-mail-i18n", "mutt", "sylpheed-i18n"),
    "file transfer": ("filezilla-common", "gftp-common", "transmission-gtk", "ktorrent-data", "wget"),
    "spreadsheets": ("gnumeric-common", "libreoffice-l10n-*"),
    "system administration": (
        "apt", "dpkg", "aptitude-common", "synaptic", "systemd", "util-linux-locales", "debconf-i18n",
    ),
    "software development": ("git", "gcc-12-locales", "binutils-common", "make", "gettext", "flex"),
    "text editors": ("gedit-common", "nano", "vim-runtime", "geany-common", "pluma-common", "mousepad"),
    "photo management": ("darktable", "shotwell-common", "digikam-data", "gthumb-data"),
}  # fmt: skip
LANGUAGES = ("ru", "uk", "de", "es", "pt_BR", "fr")
"""The translations kept (beside English)."""
LIBREOFFICE_LANGUAGES = {"ru": "ru", "uk": "uk", "de": "de", "es": "es", "pt_BR": "pt-br", "fr": "fr"}
SKIPPED_DOMAINS = re.compile(r"gnulib|freeciv-nations|freeciv-ruledit|-runtime$")
"""Catalogues of other subjects inside a topic's package (shared libraries, nation legends)."""
LIBREOFFICE_DOMAINS = ("sc",)
"""LibreOffice's catalogues are per program; `sc` is Calc, the spreadsheet."""
MIN_WORDS, MAX_CHARS = 5, 500
PER_TOPIC, PER_PACKAGE = 700, 300
NEAR, RARE = 0.8, 50
DEFAULT_OUT = Path(__file__).parent / "data" / "debian-messages.jsonl.gz"

PLACEHOLDER = re.compile(
    r"%(\d+\$)?[-+ #0']*(\d+|\*)?(\.(\d+|\*))?(hh|h|ll|l|L|q|j|z|t|w|I64)*[a-zA-Z<>]"  # printf, gcc
    r"|%\([a-z_]+\)[sd]"  # python %(name)s
    r"|%\d+"  # Qt/KDE %1
    r"|\{[a-zA-Z_0-9.:]*\}"  # {0}, {name}
    r"|\$[a-zA-Z_][a-zA-Z_0-9.|]*"  # WML $unit.name
)
MARKUP = re.compile(r"</?[a-zA-Z][^<>]*>")
MNEMONIC = re.compile(r"&(?=\w)|(?<!\w)_(?=\w)")
QUALIFIER = re.compile(r"^\?[\w ]+:")  # freeciv's "?plural:" prefixes
CODE = re.compile(r"--\w|\w\(\)|::|=>|\\[nt]|\w/\w+/|^\s*[-*]\s|[{}\[\]=<>|]|https?:|@\w")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
LETTER = re.compile(r"[^\W\d_]")


def download(packages: list[str], into: Path) -> None:
    """`apt-get download` of the packages not yet in `into` (no install, no root needed)."""
    have = {path.name.split("_", 1)[0] for path in into.glob("*.deb")}
    missing = [package for package in packages if package not in have]
    if missing:
        subprocess.run(["apt-get", "download", *missing], cwd=into, check=True)


def catalogues(deb: Path) -> Iterator[tuple[str, str, bytes]]:
    """(language, domain, .mo bytes) of every message catalogue in a .deb."""
    command = ["dpkg-deb", "--fsys-tarfile", str(deb)]
    tar = subprocess.run(command, check=True, capture_output=True).stdout
    with tempfile.TemporaryFile() as buffer:
        buffer.write(tar)
        buffer.seek(0)
        with tarfile.open(fileobj=buffer) as archive:
            for member in archive:
                parts = member.name.split("/")
                if member.isfile() and member.name.endswith(".mo") and "LC_MESSAGES" in parts:
                    lang = parts[parts.index("LC_MESSAGES") - 1].replace("-", "_")
                    lang = {"pt_br": "pt_BR"}.get(lang, lang)
                    domain = parts[-1][: -len(".mo")]
                    data = archive.extractfile(member)
                    if data is not None:
                        yield lang, domain, data.read()


def read_catalogue(data: bytes) -> dict[tuple[str, str], str]:
    """(context, English) -> translation, the singular form of plural messages.

    Read by hand rather than with `gettext`/babel, which reject catalogues whose header
    names no charset or an odd date; the body is decoded by the header's charset."""
    magic = int.from_bytes(data[:4], "little")
    order = "little" if magic == 0x950412DE else "big"
    count, ids_at, strings_at = (int.from_bytes(data[n : n + 4], order) for n in (8, 12, 16))

    def entry(table: int, n: int) -> bytes:
        length = int.from_bytes(data[table + 8 * n : table + 8 * n + 4], order)
        offset = int.from_bytes(data[table + 8 * n + 4 : table + 8 * n + 8], order)
        return data[offset : offset + length]

    pairs = [(entry(ids_at, n), entry(strings_at, n)) for n in range(count)]
    header = next((string for key, string in pairs if not key), b"").decode("ascii", "replace")
    charset = re.search(r"charset=([\w-]+)", header)
    encoding = charset.group(1) if charset and charset.group(1).lower() != "charset" else "utf-8"
    found = {}
    for key, string in pairs:
        if not key or not string:
            continue
        try:
            key_text, string_text = key.decode(encoding), string.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
        context, _, english = key_text.rpartition("\x04")
        english = english.split("\x00")[0]
        translated = string_text.split("\x00")[0]
        if english and translated:
            found[(context, english)] = translated
    return found


def clean(text: str) -> str:
    """The text a reader sees: no placeholders, mnemonics, markup or qualifiers."""
    text = QUALIFIER.sub("", text)
    text = MARKUP.sub(" ", text)
    text = html.unescape(text)
    text = PLACEHOLDER.sub(" ", text.replace("~%", " "))
    text = MNEMONIC.sub("", text)
    if text.count("_") == 1:  # a mnemonic inside a word: "Sa_ve"
        text = re.sub(r"(?<=[^\W\d_])_(?=[^\W\d_])", "", text)
    text = text.replace("%%", "%")
    text = re.sub(r"\(\s*\)|\"\s*\"|'\s*'|«\s*»|“\s*”|‘\s*’|„\s*“", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.:;!?)»])", r"\1", text)
    text = re.sub(r"[:,]([.?!])", r"\1", text)
    return text.strip(" :,;-")


def prose(raw: str, text: str) -> bool:
    """Reads as a sentence: enough words, mostly letters, not a usage line or code."""
    words = re.findall(r"[^\W\d_]{2,}", text)
    if len(words) < MIN_WORDS or len(text) > MAX_CHARS or CODE.search(raw):
        return False
    placeholders = len(PLACEHOLDER.findall(raw))
    letters = len(LETTER.findall(text))
    return placeholders <= len(words) / 4 and letters >= 0.75 * len(text.replace(" ", ""))


def translated(lang: str, english: str, text: str) -> bool:
    if not text or text == english or len(LETTER.findall(text)) < 10:
        return False
    if lang in ("ru", "uk"):
        letters = LETTER.findall(text)
        return sum(1 for c in letters if CYRILLIC.match(c)) >= 0.7 * len(letters)
    return True


def messages(topic: str, package: str, deb: Path) -> list[dict]:
    """The package's prose messages with their translations in `LANGUAGES`."""
    by_english: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for lang, domain, data in catalogues(deb):
        if lang not in LANGUAGES or SKIPPED_DOMAINS.search(domain):
            continue
        if package.startswith("libreoffice") and domain not in LIBREOFFICE_DOMAINS:
            continue
        for (context, raw), translation in read_catalogue(data).items():
            by_english[(context, raw)][lang] = translation
    rows = []
    for (_, raw), translations in by_english.items():
        english = clean(raw)
        if not prose(raw, english):
            continue
        texts = {"en": english}
        for lang in LANGUAGES:
            text = clean(translations.get(lang, ""))
            if translated(lang, english, text):
                texts[lang] = text
        if len(texts) > 1:
            rows.append({"topic": topic, "package": package, "texts": texts})
    return rows


def deduplicated(rows: list[dict]) -> list[dict]:
    """Near-duplicates over the English (and exact ones over each translation): one kept
    within a topic, all dropped when they span topics.

    Pairs are only compared when they share a rare word or bigram (in at most `RARE` rows):
    comparing all pairs costs minutes. Texts of common words alone are matched by their
    set of words instead."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    key = [" ".join(re.findall(r"[^\W\d_]+", row["texts"]["en"].lower())) for row in rows]
    matrix = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(key).tocsr()
    frequency = np.bincount(matrix.indices, minlength=matrix.shape[1])
    rare = matrix[:, np.flatnonzero(frequency <= RARE)].astype(bool).astype(np.float32).tocsr()
    parent = list(range(len(rows)))

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for start in range(0, len(rows), 5000):
        shared = (rare[start : start + 5000] @ rare.T).tocoo()
        pairs = shared.row + start < shared.col
        a, b = shared.row[pairs] + start, shared.col[pairs]
        cosine = np.asarray(matrix[a].multiply(matrix[b]).sum(axis=1)).ravel()
        for x, y in zip(a[cosine >= NEAR], b[cosine >= NEAR]):
            parent[root(int(y))] = root(int(x))
    texts = [(f"words/{n}", " ".join(sorted(set(k.split())))) for n, k in enumerate(key)]
    for lang in ("en", *LANGUAGES):
        texts += [(lang, row["texts"].get(lang, "").lower()) for row in rows]
    first: dict[tuple[str, str], int] = {}
    for n, (kind, text) in enumerate(texts):
        n %= len(rows)
        if text:
            kind = kind.partition("/")[0]
            if (kind, text) in first:
                parent[root(n)] = root(first[(kind, text)])
            else:
                first[(kind, text)] = n
    groups: dict[int, list[int]] = defaultdict(list)
    for n in range(len(rows)):
        groups[root(n)].append(n)
    kept = []
    for members in groups.values():
        if len({rows[n]["topic"] for n in members}) == 1:
            kept.append(max(members, key=lambda n: (len(rows[n]["texts"]), -n)))
    return [rows[n] for n in sorted(kept)]


def balanced(rows: list[dict], seed: int = 0) -> list[dict]:
    """At most `PER_PACKAGE` a package and `PER_TOPIC` a topic, Russian-translated first."""
    rng = random.Random(seed)
    by_package: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_package[row["package"]].append(row)
    picked = []
    for package_rows in by_package.values():
        rng.shuffle(package_rows)
        package_rows.sort(key=lambda row: "ru" not in row["texts"])
        picked.extend(package_rows[:PER_PACKAGE])
    by_topic: dict[str, list[dict]] = defaultdict(list)
    for row in picked:
        by_topic[row["topic"]].append(row)
    out = []
    for topic_rows in by_topic.values():
        rng.shuffle(topic_rows)
        topic_rows.sort(key=lambda row: "ru" not in row["texts"])
        out.extend(topic_rows[:PER_TOPIC])
    return out


def build(debs: Path) -> list[dict]:
    return balanced(deduplicated(collect(debs)))


def collect(debs: Path) -> list[dict]:
    """Every topic package's prose messages (LibreOffice's languages joined into one row)."""
    wanted = {
        package: topic
        for topic, packages in TOPICS.items()
        for package in packages
        if "*" not in package
    }
    for lang in LIBREOFFICE_LANGUAGES.values():
        wanted[f"libreoffice-l10n-{lang}"] = "spreadsheets"
    download(sorted(wanted), debs)
    rows: list[dict] = []
    libreoffice: dict[str, dict] = {}
    for package, topic in wanted.items():
        deb = next(debs.glob(f"{package}_*.deb"))
        found = messages(topic, package, deb)
        if package.startswith("libreoffice-l10n-"):
            for row in found:  # one package per language: join them by the English
                joined = libreoffice.setdefault(
                    row["texts"]["en"], {"topic": topic, "package": "libreoffice-calc", "texts": {}}
                )
                joined["texts"].update(row["texts"])
        else:
            rows.extend(found)
    rows.extend(libreoffice.values())
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--debs", type=Path, help="folder to keep the downloaded .debs in (default: a temporary one)"
    )
    args = parser.parse_args()
    if args.debs:
        args.debs.mkdir(parents=True, exist_ok=True)
        rows = build(args.debs)
    else:
        with tempfile.TemporaryDirectory(prefix="debian-messages-") as folder:
            rows = build(Path(folder))
    rows.sort(key=lambda row: (row["topic"], row["package"], row["texts"]["en"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out, "wt", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{'topic':24}" + "".join(f"{lang:>7}" for lang in ("en", *LANGUAGES)))
    for topic in TOPICS:
        counts = Counter(lang for row in rows if row["topic"] == topic for lang in row["texts"])
        print(f"{topic:24}" + "".join(f"{counts[lang]:>7}" for lang in ("en", *LANGUAGES)))
    packages = Counter(row["package"] for row in rows)
    print(", ".join(f"{package} {count}" for package, count in sorted(packages.items())))
    print(f"{len(rows)} messages -> {args.out}")


if __name__ == "__main__":
    main()
