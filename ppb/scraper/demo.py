"""Demo channels the project writes itself: distinct topics, English and Russian, no network.

The content is a pure function of the channel list (seeded, so every run makes the same
posts with the same ids); times count back from the day of the first load. Loading is
idempotent: channels are upserted, posts keyed by (channel, message id).
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ppb.domain.channels import ChannelRef
from ppb.domain.interactions import MediaType
from ppb.scraper.sync import channel_cursor, save_posts
from ppb.store.queries import NewPost, Store

log = logging.getLogger("ppb.demo")

POSTS_PER_CHANNEL = 50
SPAN = timedelta(days=30)


@dataclass(frozen=True)
class DemoChannel:
    username: str
    title: str
    telegram_id: int
    language: str
    heads: tuple[str, ...]
    bodies: tuple[str, ...]
    tails: tuple[str, ...]
    slots: dict[str, tuple[str, ...]]


def _channel(index: int, username: str, title: str, **pools: tuple[str, ...] | dict) -> DemoChannel:
    language = "ru" if re.search("[а-яё]", title.lower()) else "en"
    return DemoChannel(
        username, title, -(10**12 + 7_770_000_000 + index), language,
        pools["heads"], pools["bodies"], pools["tails"], pools["slots"],  # type: ignore[arg-type]
    )


DEMO_CHANNELS: tuple[DemoChannel, ...] = (
    _channel(
        1, "ppb_demo_tech", "Tech Pulse",
        heads=(
            "{company} ships {product} {version}, and the headline feature is {feature}.",
            "Hands-on with {product}: {feature} works better than the keynote promised.",
            "Benchmark: {product} compiles our test project {n}% faster than last year's release.",
            "{company} open-sources the code behind {feature} in {product}.",
            "Security advisory: patch {product} now, a flaw in {feature} lets attackers read memory.",
            "Why we moved our backend from {lang_a} to {lang_b} after {n} months of profiling.",
            "The {product} battery lasts {n} hours in our loop test with {feature} switched on.",
            "Job market check: {lang_a} developers are asked about {feature} in every second interview.",
        ),
        bodies=(
            "The update lands on desktop first; phones follow next month.",
            "Early adopters report fewer crashes but a noticeably warmer chassis.",
            "The pricing did not change, which is the real surprise here.",
            "Developers get a new API, documented with examples from day one.",
            "Under the hood it is a rewrite of the scheduler, not a tweak.",
            "Privacy settings moved: check them after you install the update.",
            "The old plugin system keeps working behind a compatibility flag.",
            "Our tests ran on a three-year-old laptop, not on a workstation.",
        ),
        tails=("", "Full review in the comments.", "#gadgets", "#software", "#ai", "Would you upgrade?"),
        slots={
            "company": ("Lumen Labs", "Northwind", "Quanta Devices", "Orbitware", "Pixelforge"),
            "product": ("Nimbus OS", "the Vector 5 phone", "CodeLens IDE", "Atlas laptop", "Sparrow earbuds"),
            "version": ("2.0", "14", "3.1 beta", "X", "7"),
            "feature": ("on-device AI translation", "a new GPU driver", "instant resume", "passkey login", "a local code assistant"),
            "lang_a": ("Python", "Java", "Ruby", "PHP"),
            "lang_b": ("Rust", "Go", "Kotlin", "Elixir"),
            "n": ("12", "18", "23", "31", "40"),
        },
    ),
    _channel(
        2, "ppb_demo_science", "Science Digest",
        heads=(
            "Astronomers spot {object} {distance} light-years away, the farthest of its kind so far.",
            "A new study of {animal} shows they can {skill}, which nobody expected.",
            "Physicists measured {quantity} with ten times the previous precision.",
            "The {mission} probe sent back its first images of {object}.",
            "Researchers grew {tissue} in the lab that survives for {n} weeks.",
            "Climate data: {region} had its warmest {season} since records began.",
            "Why {animal} sleep with one half of the brain at a time, explained.",
            "A {n}-year field study finds that {animal} pass {skill} on to their young.",
        ),
        bodies=(
            "The paper is peer-reviewed and the data set is public.",
            "The team plans to repeat the measurement with a larger detector.",
            "Independent groups have not confirmed the result yet.",
            "The instrument was built by students on a tiny budget.",
            "It took four years of observations to collect enough signal.",
            "The finding could change how textbooks describe evolution.",
            "Funding for the follow-up mission is still being negotiated.",
            "Citizen scientists helped classify most of the images.",
        ),
        tails=("", "#space", "#biology", "#physics", "Link to the paper below.", "Mind blown."),
        slots={
            "object": ("a rogue planet", "a water-rich comet", "a dwarf galaxy", "a magnetar", "an icy moon"),
            "distance": ("400", "12,000", "2.3 million", "80", "9 billion"),
            "animal": ("octopuses", "crows", "honeybees", "dolphins", "cuttlefish"),
            "skill": ("count to five", "recognise faces", "use tools", "plan a route", "learn by watching"),
            "quantity": ("the mass of the neutrino", "the proton radius", "the gravitational constant", "the muon's magnetism"),
            "mission": ("Helios", "Europa Clipper", "Juno", "Kestrel"),
            "tissue": ("heart muscle", "a mini liver", "retina cells", "cartilage"),
            "region": ("Northern Europe", "the Arctic", "South America", "Australia"),
            "season": ("winter", "summer", "autumn", "spring"),
            "n": ("6", "10", "25", "40"),
        },
    ),
    _channel(
        3, "ppb_demo_kitchen", "Weeknight Kitchen",
        heads=(
            "Tonight: {dish} with {ingredient}, ready in {n} minutes.",
            "The trick to crispy {ingredient}: dry them well and do not crowd the pan.",
            "One-pot {dish} that even picky eaters finish.",
            "Swap {ingredient} for {swap} and this {dish} becomes vegetarian.",
            "Meal prep Sunday: {dish}, {side} and a jar of {sauce}.",
            "Knife skills: how to dice {ingredient} fast without losing a finger.",
            "Reader question: can you freeze {dish}? Yes, for up to {n} days.",
            "Sweet tooth corner: a {dessert} with only four ingredients.",
        ),
        bodies=(
            "Season at the end, taste, then season again.",
            "A cast-iron pan gives the best crust, but any heavy pan works.",
            "Leftovers make a great lunch the next day.",
            "Toast the spices first: the kitchen will smell amazing.",
            "Use the pasta water; its starch makes the sauce silky.",
            "Lemon zest at the very end brightens everything.",
            "Rest the dough for an hour so it stops shrinking.",
            "Serve with crusty bread to mop up the sauce.",
        ),
        tails=("", "#recipe", "#dinner", "Bon appétit!", "Photo of the result below.", "Save this one."),
        slots={
            "dish": ("shakshuka", "mushroom risotto", "chicken tikka", "lentil soup", "garlic noodles"),
            "ingredient": ("chickpeas", "potatoes", "aubergine", "salmon", "tofu"),
            "swap": ("smoked paprika beans", "halloumi", "jackfruit", "mushrooms"),
            "side": ("roasted carrots", "couscous", "a crunchy slaw", "garlic rice"),
            "sauce": ("chimichurri", "tahini dressing", "salsa verde", "peanut sauce"),
            "dessert": ("banana bread", "chocolate mousse", "lemon tart", "apple crumble"),
            "n": ("15", "20", "25", "30", "45"),
        },
    ),
    _channel(
        4, "ppb_demo_football", "Matchday",
        heads=(
            "{team_a} beat {team_b} {score} with a late goal from {player}.",
            "Transfer news: {team_a} agree a fee for {player}, medical on {day}.",
            "{player} is out for {n} weeks with a hamstring injury.",
            "Derby preview: {team_a} against {team_b}, predicted line-ups inside.",
            "{team_b} sack their manager after {n} games without a win.",
            "Stats corner: {player} has created more chances than anyone in the league.",
            "Cup draw: {team_a} travel to {team_b} in the quarter-finals.",
            "Youth academy graduate {player} signs his first professional contract.",
        ),
        bodies=(
            "The stadium was sold out and the atmosphere was electric.",
            "VAR overturned a penalty in the first half.",
            "The away fans sang for the full ninety minutes.",
            "The coach rotated five players ahead of the midweek game.",
            "The table is now tighter than it has been in a decade.",
            "Ticket prices for the next round have already been announced.",
            "Pressing high paid off: three goals came from turnovers.",
            "The goalkeeper made six saves and was named man of the match.",
        ),
        tails=("", "#football", "#transfers", "Who wins the league?", "Highlights video below.", "⚽"),
        slots={
            "team_a": ("Riverside United", "Harbor City", "Northgate Rovers", "Kingsport FC"),
            "team_b": ("Old Mill Athletic", "Westbrook", "Castle Town", "Lakeside Wanderers"),
            "player": ("Marco Silva", "Tom Okafor", "Luka Novak", "Jamie Reyes", "Ali Demir"),
            "score": ("2-1", "3-0", "1-0", "4-2", "2-2 on aggregate"),
            "day": ("Monday", "Tuesday", "Friday"),
            "n": ("3", "5", "6", "8", "10"),
        },
    ),
    _channel(
        5, "ppb_demo_travel", "Slow Travel Notes",
        heads=(
            "Three days in {city} on foot: {sight} at sunrise was the highlight.",
            "Night train from {city} to {city_b}: {n} hours, a bunk bed and no regrets.",
            "Hidden gem: a family-run guesthouse near {sight}.",
            "Budget check: a week in {city} cost us {money} including flights.",
            "Packing list for {season} hiking in {region}.",
            "Ferry hopping around {region}: the timetable nobody explains.",
            "Where locals eat in {city}: skip the main square, walk two streets north.",
            "Visa update for {region}: the e-visa now takes {n} days.",
        ),
        bodies=(
            "Book the first slot of the morning to avoid the crowds.",
            "Public transport passes pay for themselves after two rides a day.",
            "Cash is still king in the small villages.",
            "The trail is well marked but bring more water than you think.",
            "We travelled carry-on only and never missed the extra bag.",
            "Learn five words of the language; people light up.",
            "Shoulder season means half the prices and empty beaches.",
            "Download offline maps before you leave the city.",
        ),
        tails=("", "#travel", "#slowtravel", "Map pin in the comments.", "Would you go?", "✈️"),
        slots={
            "city": ("Lisbon", "Kyoto", "Tbilisi", "Valparaíso", "Ljubljana"),
            "city_b": ("Porto", "Osaka", "Batumi", "Santiago", "Trieste"),
            "sight": ("the old lighthouse", "the bamboo grove", "the hilltop fortress", "the street-art stairs"),
            "money": ("€540", "$820", "€390", "$1,100"),
            "season": ("late autumn", "early spring", "winter", "summer"),
            "region": ("the Dolomites", "the Greek islands", "Patagonia", "the Scottish Highlands"),
            "n": ("9", "11", "14", "5"),
        },
    ),
    _channel(
        6, "ppb_demo_kino", "Кино и сериалы",
        heads=(
            "Вышел трейлер фильма «{film}»: {director} снова снимает {genre}.",
            "Рецензия: «{film}» — {verdict}.",
            "Сериал «{series}» продлили на {n} сезон, съёмки начнутся весной.",
            "Пять фильмов на выходные, если вам понравился «{film}».",
            "{actor} сыграет главную роль в новом проекте {director}.",
            "Кассовые сборы недели: «{film}» собрал {money} за первые выходные.",
            "Разбор финала «{series}»: что на самом деле произошло в последней серии.",
            "Фестиваль короткого метра объявил программу: {n} фильмов из двадцати стран.",
        ),
        bodies=(
            "Операторская работа заслуживает отдельной награды.",
            "Музыку написал композитор, известный по работе с театром.",
            "Вторая половина затянута, но финал всё искупает.",
            "Актёрский состав подобран идеально, особенно второй план.",
            "Смотреть лучше в оригинале с субтитрами.",
            "Критики разделились: одни в восторге, другие разочарованы.",
            "Премьера на стриминге запланирована на конец месяца.",
            "Съёмки проходили в заброшенном заводском районе.",
        ),
        tails=("", "#кино", "#сериалы", "Делитесь мнением в комментариях.", "Смотрели?", "🎬"),
        slots={
            "film": ("Северный ветер", "Последний поезд", "Тишина", "Город без карт", "Зеркала"),
            "series": ("Метро", "Участок", "Долгая зима", "Код доступа"),
            "director": ("Анна Волкова", "Илья Серов", "Марина Ким", "Олег Туманов"),
            "actor": ("Дмитрий Орлов", "Вера Светлова", "Павел Громов", "Алиса Лебедева"),
            "genre": ("психологический триллер", "семейную драму", "фантастику", "комедию"),
            "verdict": ("лучший фильм года", "красиво, но пусто", "смелый эксперимент", "крепкое жанровое кино"),
            "money": ("120 млн рублей", "45 млн рублей", "300 млн рублей"),
            "n": ("второй", "третий", "четвёртый", "12"),
        },
    ),
    _channel(
        7, "ppb_demo_dengi", "Деньги без паники",
        heads=(
            "Ключевая ставка: ЦБ {decision}, что это значит для вкладов.",
            "Как собрать подушку безопасности на {n} месяцев и не сорваться.",
            "Разбираем {instrument}: доходность, риски и налоги.",
            "Кешбэк-карты: какая выгоднее для {category} в этом квартале.",
            "Инфляция за месяц составила {percent}, цены на {category} выросли сильнее всего.",
            "Ипотека или аренда: считаем на примере квартиры за {money}.",
            "Налоговый вычет за {category}: какие документы нужны.",
            "Ошибка новичка: покупать {instrument} на все деньги сразу.",
        ),
        bodies=(
            "Главное правило: не вкладывайте деньги, которые понадобятся в ближайший год.",
            "Диверсификация скучна, но она работает.",
            "Проверьте комиссию брокера перед покупкой.",
            "Вести бюджет проще в таблице, чем в голове.",
            "Страхование вкладов покрывает сумму до установленного лимита.",
            "Сравнивайте реальную доходность с учётом инфляции.",
            "Регулярные небольшие взносы лучше редких крупных.",
            "Прочитайте договор целиком, особенно мелкий шрифт.",
        ),
        tails=("", "#финансы", "#инвестиции", "Это не инвестиционная рекомендация.", "Сохраните пост.", "💰"),
        slots={
            "decision": ("сохранил ставку", "снизил ставку на 0,5 п.п.", "повысил ставку на 1 п.п."),
            "instrument": ("облигации федерального займа", "фонды на индекс", "золото", "депозиты"),
            "category": ("продуктов", "лечения", "обучения", "путешествий"),
            "percent": ("0,4%", "0,7%", "1,1%"),
            "money": ("8 млн рублей", "12 млн рублей", "5 млн рублей"),
            "n": ("три", "шесть", "двенадцать"),
        },
    ),
)

DEMO_USERNAMES: tuple[str, ...] = tuple(f"@{channel.username}" for channel in DEMO_CHANNELS)

POLL_ANSWERS = {"en": ("Yes", "No", "Not sure"), "ru": ("Да", "Нет", "Не знаю")}
TOO_SIMILAR = 0.4
"""Word overlap (Jaccard) above which a generated post is thrown away as a near-copy."""
MEDIA_CHOICES = (
    [MediaType.TEXT] * 10 + [MediaType.PHOTO] * 5 + [MediaType.VIDEO] * 2
    + [MediaType.DOCUMENT, MediaType.AUDIO, MediaType.VOICE, MediaType.POLL]
)


def _fill(template: str, slots: dict[str, tuple[str, ...]], rng: random.Random) -> str:
    names = [name for name in slots if "{" + name + "}" in template]
    return template.format(**{name: rng.choice(slots[name]) for name in names})


def demo_posts(channel: DemoChannel, end: datetime, count: int = POSTS_PER_CHANNEL) -> list[NewPost]:
    """The channel's posts, oldest first, ids 1..count; the same for the same channel and end."""
    rng = random.Random(f"ppb-demo:{channel.username}")
    posts: list[NewPost] = []
    kept: list[set[str]] = []
    step = SPAN / count
    for _ in range(count * 200):
        if len(posts) == count:
            break
        head = _fill(rng.choice(channel.heads), channel.slots, rng)
        tail = rng.choice(channel.tails)
        media = rng.choice(MEDIA_CHOICES)
        if media == MediaType.POLL:
            text = "\n".join([head, *(f"• {answer}" for answer in POLL_ANSWERS[channel.language])])
        else:
            text = " ".join(part for part in (head, rng.choice(channel.bodies), tail) if part)
        words = set(re.findall(r"\w+", text.lower()))
        if any(len(words & other) / len(words | other) > TOO_SIMILAR for other in kept):
            continue
        kept.append(words)
        index = len(posts)
        jitter = timedelta(minutes=rng.randrange(0, 240))
        posted_at = end - SPAN + step * index + jitter
        posts.append(NewPost(index + 1, text, media.value, posted_at))
    return posts


def demo_end(now: datetime | None = None) -> datetime:
    """The newest demo post's day: today at noon UTC (times only, never content, depend on it)."""
    today = (now or datetime.now(UTC)).astimezone(UTC)
    return today.replace(hour=12, minute=0, second=0, microsecond=0)


async def load_demo(store: Store, now: datetime | None = None) -> int:
    """Upsert the demo channels and their posts; returns how many posts were new (0 when loaded)."""
    end = demo_end(now)
    created = 0
    for channel in DEMO_CHANNELS:
        found = await store.find_channels([ChannelRef(telegram_id=channel.telegram_id)])
        if found and found[0]["title"] == channel.title:
            if (await channel_cursor(store, found[0]["id"])).count >= POSTS_PER_CHANNEL:
                continue  # already loaded: one query per channel on every later start
            row = found[0]
        else:
            row = await store.upsert_channel(channel.telegram_id, channel.username, channel.title, is_default=True)
        created += await save_posts(store, row["id"], demo_posts(channel, end))
    if created:
        log.info("demo data: %d posts in %d channels", created, len(DEMO_CHANNELS))
    return created
