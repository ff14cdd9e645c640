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

from ppb.domain.channels import ChannelName
from ppb.domain.interactions import MediaType
from ppb.scraper.sync import channel_cursor, save_posts
from ppb.store.queries import NewPost, Store

log = logging.getLogger("ppb.demo")

POSTS_PER_CHANNEL = 15
"""Posts per demo channel: one per head template."""
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
            "{company} ships Nimbus OS 2.0, and the headline feature is on-device translation.",
            "Hands-on with the Vector 5 phone: the camera finally keeps up with moving kids.",
            "Benchmark: CodeLens IDE now indexes a large monorepo in {n} seconds instead of two minutes.",
            "{company} open-sources the speech model behind its voice assistant.",
            "Security advisory: update your router firmware, a flaw in the admin page lets anyone in.",
            "Why our team moved the backend from Python to Rust, and what it cost us.",
            "The Atlas laptop lasted {n} hours in our video loop test, a record for the category.",
            "Passkeys explained: how logging in without a password actually works.",
            "A week with Sparrow earbuds: great noise cancelling, a fiddly case.",
            "Open-source spotlight: a tiny tool that turns screenshots into searchable text.",
            "Is 8 GB of RAM still enough in {year}? We tested five everyday workloads.",
            "The e-ink monitor we wanted for years has arrived, with one big catch.",
            "Our reader survey is in: most of you still back up photos to one single drive.",
            "A public beta of the Quanta smartwatch lets you pay without your phone.",
            "How the new GPU driver doubled frame rates in older games on cheap laptops.",
        ),
        bodies=(
            "We will keep testing it over the next few weeks.",
            "Tell us in the comments if you have tried it.",
            "Prices and availability vary by country.",
            "Our full notes are in the thread below.",
            "This is a first look; a longer review follows.",
            "Thanks to the reader who sent us the tip.",
            "We paid for the device ourselves; nobody saw this post before you.",
            "Corrections are welcome, as always.",
        ),
        tails=("", "", "#gadgets", "#software", "Would you upgrade?"),
        slots={
            "company": ("Lumen Labs", "Northwind", "Orbitware", "Pixelforge"),
            "n": ("12", "18", "23", "31"),
            "year": ("2026", "2027"),
        },
    ),
    _channel(
        2, "ppb_demo_science", "Science Digest",
        heads=(
            "Astronomers spot a rogue planet {distance} light-years away, drifting without a star.",
            "Crows can count to five and recognise the faces of people who fed them, a new study shows.",
            "Physicists measured the proton radius with ten times the previous precision.",
            "The Europa Clipper probe sent back its first images of Jupiter's icy moon.",
            "Researchers grew heart muscle in the lab that kept beating for {n} weeks.",
            "Climate data: Northern Europe had its warmest winter since records began.",
            "Why dolphins sleep with one half of the brain at a time, explained.",
            "Honeybees pass route knowledge to younger bees with a dance, not only by smell.",
            "A water-rich comet will pass close enough to see with binoculars next spring.",
            "Octopuses taste with their arms: each sucker carries thousands of receptors.",
            "New fossils from Patagonia push back the origin of flowering plants.",
            "A magnetar burst lit up detectors on three continents within a single second.",
            "Sleep study: teenagers who get up later score better in maths tests.",
            "Cuttlefish pass a version of the marshmallow test and wait for the better snack.",
            "The world's coldest lab cooled atoms to a billionth of a degree above absolute zero.",
        ),
        bodies=(
            "The paper is peer-reviewed and the data set is public.",
            "Independent groups have not confirmed the result yet.",
            "The authors call the result surprising and ask for caution.",
            "A plain-language summary is in the thread below.",
            "We asked two researchers outside the team what they think.",
            "Science moves in small steps; this is a good one.",
            "Questions for the authors? Leave them in the comments.",
            "The study was funded by a public research council.",
        ),
        tails=("", "", "#space", "#biology", "#physics"),
        slots={"distance": ("400", "12,000", "80"), "n": ("6", "10", "14")},
    ),
    _channel(
        3, "ppb_demo_kitchen", "Weeknight Kitchen",
        heads=(
            "Tonight: shakshuka with feta, ready in {n} minutes.",
            "The trick to crispy roast potatoes: dry them well and do not crowd the pan.",
            "One-pot lentil soup that even picky eaters finish.",
            "Swap the chicken for halloumi and this tikka becomes vegetarian.",
            "Meal prep Sunday: garlic noodles, roasted carrots and a jar of peanut sauce.",
            "Knife skills: how to dice an onion fast without tears.",
            "Reader question: can you freeze mushroom risotto? Yes, for up to a month.",
            "Sweet tooth corner: an apple crumble with only four ingredients.",
            "Salmon in foil with lemon and dill: fifteen minutes and one tray to wash.",
            "A weeknight dal that tastes better on the second day.",
            "Homemade flatbreads need no yeast and no oven, just a hot pan.",
            "Five things to do with a tin of chickpeas besides hummus.",
            "Crispy tofu without a fryer: cornflour, a hot oven and patience.",
            "Banana bread for the bananas nobody wanted to eat.",
            "A chocolate mousse with three ingredients, ready before the film starts.",
        ),
        bodies=(
            "Season at the end, taste, then season again.",
            "Leftovers make a great lunch the next day.",
            "Double the batch and freeze half for a busy evening.",
            "The full recipe is in the comments.",
            "Tested three times in a small home kitchen.",
            "Send us a photo if you cook it!",
            "No special equipment needed, promise.",
            "Works just as well for two as for six.",
        ),
        tails=("", "#recipe", "#dinner", "Bon appétit!", "Save this one."),
        slots={"n": ("20", "25", "30")},
    ),
    _channel(
        4, "ppb_demo_football", "Matchday",
        heads=(
            "Riverside United beat Old Mill Athletic {score} with a late goal from Marco Silva.",
            "Transfer news: Harbor City agree a fee for Tom Okafor, the medical is on Monday.",
            "Luka Novak is out for {n} weeks with a hamstring injury.",
            "Derby preview: Northgate Rovers against Castle Town, predicted line-ups inside.",
            "Westbrook sack their manager after ten games without a win.",
            "Stats corner: Jamie Reyes has created more chances than anyone in the league.",
            "Cup draw: Kingsport FC travel to Lakeside Wanderers in the quarter-finals.",
            "Academy graduate Ali Demir signs his first professional contract at seventeen.",
            "Referees will explain VAR decisions live in the stadium from next season.",
            "The women's league sells out its opening weekend for the first time.",
            "Tactics board: why Harbor City press high only in the first twenty minutes.",
            "A fan-owned club climbs into the second division after three promotions in a row.",
            "Goal of the month: a forty-metre volley that nobody in the ground saw coming.",
            "Injury crisis: Castle Town have only thirteen fit players for Saturday.",
            "Ticket prices: the league caps away tickets at thirty pounds.",
        ),
        bodies=(
            "More in our match thread tonight.",
            "The club confirmed the news in a short statement this morning.",
            "Supporters' groups reacted within the hour.",
            "Full highlights are in the comments.",
            "Our reporter was at the ground; notes below.",
            "Tell us your predicted score.",
            "We will update this post as the story develops.",
            "Numbers from the league's official data.",
        ),
        tails=("", "#football", "#transfers", "Who wins the league?", "⚽"),
        slots={"score": ("2-1", "3-0", "1-0"), "n": ("three", "five", "six")},
    ),
    _channel(
        5, "ppb_demo_travel", "Slow Travel Notes",
        heads=(
            "Three days in Lisbon on foot: the old lighthouse at sunrise was the highlight.",
            "Night train from Kyoto to Tokyo's suburbs: {n} hours, a bunk bed and no regrets.",
            "Hidden gem: a family-run guesthouse below the hilltop fortress in Tbilisi.",
            "Budget check: a week in Ljubljana cost us {money} including flights.",
            "Packing list for late-autumn hiking in the Dolomites.",
            "Ferry hopping around the Greek islands: the timetable nobody explains.",
            "Where locals eat in Valparaíso: skip the main square, walk two streets uphill.",
            "Visa update for Patagonia trips: the Argentine e-visa now takes five days.",
            "The slowest route to Scotland: buses, two ferries and a bike.",
            "Why we stopped planning every hour of a trip, and what we do instead.",
            "A rainy day in Porto: tiled churches, a bookshop and a long lunch.",
            "Travelling with a toddler by train across Italy: what worked and what did not.",
            "Cheap sleep in Osaka: a capsule hotel review from a claustrophobic writer.",
            "The Trieste coffee ritual, and how to order like a local.",
            "Our map of free viewpoints in Santiago, with the best time for each.",
        ),
        bodies=(
            "Download offline maps before you leave the city.",
            "Cash is still king in the small villages.",
            "Learn five words of the language; people light up.",
            "All prices are from this season.",
            "Map pins and bookings are in the comments.",
            "Nobody paid for this trip; we did.",
            "Ask us anything about the route below.",
            "Travel slowly; the best places reward patience.",
        ),
        tails=("", "", "#travel", "#slowtravel", "✈️"),
        slots={"money": ("€540", "€390", "$820"), "n": ("nine", "eleven")},
    ),
    _channel(
        6, "ppb_demo_kino", "Кино и сериалы",
        heads=(
            "Вышел трейлер фильма «Северный ветер»: Анна Волкова снова снимает психологический триллер.",
            "Рецензия: «Последний поезд» — лучший фильм года, и это не преувеличение.",
            "Сериал «Метро» продлили на третий сезон, съёмки начнутся весной.",
            "Пять фильмов на выходные, если вам понравилась «Тишина».",
            "Дмитрий Орлов сыграет главную роль в новом фильме Ильи Серова.",
            "Кассовые сборы недели: «Город без карт» собрал {money} за первые выходные.",
            "Разбор финала «Долгой зимы»: что на самом деле произошло в последней серии.",
            "Фестиваль короткого метра объявил программу: {n} фильмов из двадцати стран.",
            "Почему сериалы стали короче: восемь серий вместо двадцати двух.",
            "Вера Светлова рассказала, как полгода училась играть на виолончели для роли.",
            "«Зеркала» выйдут на стриминге раньше, чем в кино: что это значит для зрителей.",
            "Старое кино в новом качестве: реставрацию классики покажут в декабре.",
            "Композитор «Участка» выпустил саундтрек отдельным альбомом.",
            "Пересмотрели «Код доступа» спустя десять лет: выдержал ли он проверку временем.",
            "Как снимали сцену погони на замёрзшей реке без единого дубля с каскадёром.",
        ),
        bodies=(
            "Без спойлеров, обещаем.",
            "Подробности — в комментариях.",
            "Делитесь впечатлениями, если уже посмотрели.",
            "Трейлер и фото со съёмок — ниже.",
            "Мнение автора может не совпадать с вашим, и это нормально.",
            "Следим за новостями и дополним пост.",
            "Спасибо подписчикам за подсказку.",
            "Смотреть лучше в оригинале с субтитрами.",
        ),
        tails=("", "", "#кино", "#сериалы", "🎬"),
        slots={"money": ("120 млн рублей", "45 млн рублей", "300 млн рублей"), "n": ("сорок", "пятьдесят два")},
    ),
    _channel(
        7, "ppb_demo_dengi", "Деньги без паники",
        heads=(
            "Ключевая ставка: ЦБ {decision}. Что это значит для вкладов.",
            "Как собрать подушку безопасности на шесть месяцев и не сорваться.",
            "Разбираем облигации федерального займа: доходность, риски и налоги.",
            "Кешбэк-карты: какая выгоднее для покупок в супермаркетах в этом квартале.",
            "Инфляция за месяц составила {percent}, сильнее всего подорожали овощи.",
            "Ипотека или аренда: считаем на примере квартиры за {money}.",
            "Налоговый вычет за лечение: какие документы нужны и куда их подать.",
            "Ошибка новичка: вложить все деньги в один фонд в первый же день.",
            "Семейный бюджет в таблице: шаблон, который мы ведём третий год.",
            "Как говорить с детьми о деньгах, чтобы это не звучало как лекция.",
            "Страхование вкладов: какая сумма защищена и что делать, если банк закрылся.",
            "Подписки съедают бюджет: как найти и отключить лишние за вечер.",
            "Золото за десять лет: что было бы, если бы вы купили его тогда.",
            "Пенсионные накопления: три вопроса, которые стоит задать своему фонду.",
            "Крупная покупка без кредита: метод трёх конвертов на практике.",
        ),
        bodies=(
            "Главное правило: не вкладывайте деньги, которые понадобятся в ближайший год.",
            "Проверьте комиссии, прежде чем что-то покупать.",
            "Расчёты — в таблице в комментариях.",
            "Это не инвестиционная рекомендация.",
            "Задавайте вопросы, разберём в следующем посте.",
            "Цифры взяты из открытых данных.",
            "Сохраните пост, чтобы вернуться к нему позже.",
            "Финансовая цель без срока — это просто мечта.",
        ),
        tails=("", "", "#финансы", "#инвестиции", "💰"),
        slots={
            "decision": ("сохранил ставку", "снизил ставку на 0,5 п. п.", "повысил ставку на 1 п. п."),
            "percent": ("0,4%", "0,7%", "1,1%"),
            "money": ("8 млн рублей", "12 млн рублей"),
        },
    ),
)

DEMO_USERNAMES: tuple[str, ...] = tuple(f"@{channel.username}" for channel in DEMO_CHANNELS)

POLL_ANSWERS = {"en": ("Yes", "No", "Not sure"), "ru": ("Да", "Нет", "Не знаю")}
POLL_QUESTIONS = {"en": "Agree?", "ru": "Согласны?"}
MEDIA_CHOICES = (
    [MediaType.TEXT] * 10 + [MediaType.PHOTO] * 5 + [MediaType.VIDEO] * 2
    + [MediaType.DOCUMENT, MediaType.AUDIO, MediaType.VOICE, MediaType.POLL]
)


def _fill(template: str, slots: dict[str, tuple[str, ...]], rng: random.Random) -> str:
    names = [name for name in slots if "{" + name + "}" in template]
    return template.format(**{name: rng.choice(slots[name]) for name in names})


def demo_posts(channel: DemoChannel, end: datetime, count: int = POSTS_PER_CHANNEL) -> list[NewPost]:
    """The channel's posts, oldest first, ids 1..count; the same for the same channel and end.

    Each head is used once (posts of one template would read as copies), each body at most
    twice, so a channel reads like a channel and not like a template."""
    rng = random.Random(f"ppb-demo:{channel.username}")
    heads = list(channel.heads)
    rng.shuffle(heads)
    bodies = list(channel.bodies) * 2
    rng.shuffle(bodies)
    posts: list[NewPost] = []
    step = SPAN / count
    for index, template in enumerate(heads[:count]):
        head = _fill(template, channel.slots, rng)
        media = rng.choice(MEDIA_CHOICES)
        if media == MediaType.POLL:
            answers = [f"• {answer}" for answer in POLL_ANSWERS[channel.language]]
            text = "\n".join([head, "", POLL_QUESTIONS[channel.language], *answers])
        else:
            text = " ".join(part for part in (head, bodies[index % len(bodies)], rng.choice(channel.tails)) if part)
        jitter = timedelta(minutes=rng.randrange(0, 240))
        posts.append(NewPost(index + 1, text, media.value, end - SPAN + step * index + jitter))
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
        found = await store.find_channels([ChannelName(telegram_id=channel.telegram_id)])
        if found and found[0]["title"] == channel.title:
            if (await channel_cursor(store, found[0]["id"])).count >= POSTS_PER_CHANNEL:
                continue  # already loaded: one query per channel on every later start
            row = found[0]
        else:
            # Not marked default in the store: in demo mode they are the defaults by configuration
            # (`effective_default_channels`); a mark would add them to a DEFAULT_CHANNELS setup too.
            row = await store.upsert_channel(channel.telegram_id, channel.username, channel.title)
        created += await save_posts(store, row["id"], demo_posts(channel, end))
    if created:
        log.info("demo data: %d posts in %d channels", created, len(DEMO_CHANNELS))
    return created
