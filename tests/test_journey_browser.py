"""A new person's whole journey in headless Chromium, in English and in Russian, as a person's
eye would check it: the page `make run` points to, the sandbox chat (/start, choosing the
language, training, a card rated in the Mini App the chat's menu button opens, the feed,
settings with a mistyped time and a city for a time zone, /help, /export), the Mini App from
the main menu (a swipe on its feed, its settings) and the operators' console.

At every step the test asserts what the person sees: the words they expect, none of the other
language's interface text (read from the bot's catalogue, the Mini App's and the sandbox page's
texts) and no machine text (a validation error, a field name, "null"). A screenshot of every
step lands in artifacts/journey/<en|ru|ru-chosen-in-english>/NN-<step>.png ($PPB_ARTIFACTS
moves artifacts/).

The person's browser speaks a language, and the sandbox chat tells the bot so as a Telegram
client does (`language_code`): the welcome comes in it, and the person chooses their language
there, as onboarding offers: English in an English browser, Russian in a Russian one, and
Russian chosen in an English browser (the page's own words stay the browser's, as a Telegram
app's do). The real app and bot run in a thread of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Browser, FrameLocator, Locator, Page, expect

from ppb.config import load_settings
from tests.bot_helpers import Running, bot_in_thread
from tests.ports import free_port
from tests.browser import launch_chromium, sandbox_chat, sandbox_send, screenshot, swipe, wait_until

API_KEY = "journey-browser-key"
ROOT = Path(__file__).resolve().parent.parent
MACHINE_TEXT = ("Value error", "String should", "Field required", "quiet_start", "quiet_end", "timezone:",
                "validation", "Traceback", "status_code", "undefined", "null", "[object Object]", "NaN")


@dataclass(frozen=True)
class Words:
    """What a person reading one language expects to see at each step."""

    code: str
    locale: str
    page_note: str
    welcome: str
    choose: str
    chosen: str
    start_training: str
    card: str
    train_in_app: str
    complete: str
    view_feed: str
    feed: str
    settings: str
    quiet_hours: str
    bad_quiet: str
    time_zone: str
    city: str
    saved: str
    help: str
    export: str
    main_menu: str
    open_app: str
    app_feed: str
    app_like: str
    app_settings: str
    app_zone: str


ENGLISH = Words(
    code="en", locale="en-US", page_note="The sandbox keeps chats in memory",
    welcome="👋 Hi, Ann! I'm PPB", choose="🇬🇧 English", chosen="Language: English",
    start_training="🚀 Start training", card="📊 Post {number} of ",
    train_in_app="📱 Train in the Mini App", complete="✅ Training complete! I learned from ",
    view_feed="📰 View my feed", feed="posts for you. Your ratings make your feed better.",
    settings="⚙️ Settings", quiet_hours="🌙 Quiet hours",
    bad_quiet="I couldn't read “25:99” as quiet hours. Send two times with a dash, for example 23:00-08:00",
    time_zone="🌍 Time zone", city="Moscow", saved="✅ Saved.",
    help="/settings: delivery, digest, time zone, quiet hours, muted words, ads",
    export="📤 Your data: profile, settings, channels and ratings.",
    main_menu="🏠 Main menu. What would you like to do?", open_app="📱 Open the Mini App",
    app_feed="Feed", app_like="Like", app_settings="Settings", app_zone="Time zone",
)
RUSSIAN = Words(
    code="ru", locale="ru-RU", page_note="Песочница хранит чаты в памяти",
    welcome="👋 Привет, Ann! Я PPB", choose="🇷🇺 Русский", chosen="Язык: русский",
    start_training="🚀 Начать обучение", card="📊 Пост {number} из ",
    train_in_app="📱 Обучение в мини-приложении", complete="✅ Обучение завершено! Я учёл ",
    view_feed="📰 Моя лента", feed="для тебя. Твои оценки делают ленту лучше.",
    settings="⚙️ Настройки", quiet_hours="🌙 Тихие часы",
    bad_quiet="Не понял тихие часы «25:99». Пришли два времени через дефис, например 23:00-08:00",
    time_zone="🌍 Часовой пояс", city="Москва", saved="✅ Сохранено.",
    help="/settings — доставка, дайджест, часовой пояс, тихие часы, скрытые слова, реклама",
    export="📤 Твои данные: профиль, настройки, каналы и оценки.",
    main_menu="🏠 Главное меню. Что будем делать?", open_app="📱 Открыть мини-приложение",
    app_feed="Лента", app_like="Нравится", app_settings="Настройки", app_zone="Часовой пояс",
)


@pytest.fixture(scope="module")
def running(sqlite_url: str) -> Iterator[Running]:
    settings = load_settings(
        DATABASE_URL=sqlite_url, PPB_API_KEY=API_KEY, PPB_HTTP_PORT=free_port(), PPB_DEMO_DATA=True,
        DEFAULT_CHANNELS="@ppb_demo_tech,@ppb_demo_kitchen", POSTS_PER_CHANNEL=3,
    )
    with bot_in_thread(settings, API_KEY, "journey-browser-server") as running:
        yield running


@pytest.fixture(scope="module")
def browser(running: Running) -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


# what the other language would have shown --------------------------------------------------


def fragments(texts: list[str]) -> set[str]:
    """The pieces of interface texts a reader would recognise: runs of three or more words
    between placeholders and line breaks."""
    found = set()
    for text in texts:
        for piece in re.split(r"\{\w*\}|\n|«|»|“|”", text):
            piece = piece.strip(" .,:;!?—–-()\"")
            if len(re.findall(r"\w{2,}", piece)) >= 3:
                found.add(piece)
    return found


@cache
def other_language(code: str) -> frozenset[str]:
    """The bot's, the Mini App's and the sandbox chat's own texts in the language other than `code`."""
    with open(ROOT / "ppb/bot/locales/ru/LC_MESSAGES/messages.po", "rb") as file:
        catalog = read_po(file)
    english, russian = [], []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if set(ids) != set(strings):
            english += ids
            russian += strings
    tables = (("ppb/miniapp/i18n.js", "const TEXTS = {"), ("ppb/sandbox/static/chat.js", "const PAGE_WORDS = {"))
    for script, table in tables:
        texts = re.split(r"\n\s*\};", (ROOT / script).read_text().partition(table)[2], maxsplit=1)[0]
        texts_en, texts_ru = re.split(r"\n\s*ru: \{", texts, maxsplit=1)
        english += re.findall(r'"([^"\n]+)"', texts_en)
        russian += re.findall(r'"([^"\n]+)"', texts_ru)
    return frozenset(fragments(russian if code == "en" else english))


def assert_reads_as(words: Words, text: str, where: str) -> None:
    """`text` shows no interface text of the other language and no machine text."""
    leaked = sorted(piece for piece in other_language(words.code) if piece in text)
    assert not leaked, f"{where} shows text of the other language: {leaked}"
    machine = [marker for marker in MACHINE_TEXT if marker in text]
    assert not machine, f"{where} shows machine text: {machine}\n{text}"
    if words.code == "ru":
        assert re.search("[а-яё]", text), f"{where} has no Russian in it:\n{text}"


# the chat ------------------------------------------------------------------------------------


@dataclass
class Journey:
    """One person's way through PPB, and where its screenshots go."""

    page: Page
    running: Running
    words: Words
    """The language the person chooses."""
    browser: Words
    """The language their browser (their Telegram app) speaks: the welcome's and the page's own."""
    user_id: int
    folder: str
    reading: Words | None = None
    step: int = 0

    def shot(self, name: str) -> None:
        """Keep what the chat (or the Mini App over it) shows as the next step, then check it
        (a step that fails leaves its picture)."""
        self.step += 1
        screenshot(self.page, f"{self.folder}/{self.step:02d}-{name}")
        where = f"step {self.step} ({name})"
        chrome, chat = self.visible_text()
        assert_reads_as(self.browser, chrome, f"{where}, the page's own words")
        assert_reads_as(self.reading or self.browser, chat, where)

    def visible_text(self) -> tuple[str, str]:
        """The chat page's own words; the bot's and the Mini App's (when it is open), without
        the posts' own words (the channels write in either language)."""
        shown = self.page.evaluate(POSTLESS_CHAT)
        if self.page.locator("#webapp").is_visible():
            shown["chat"] += "\n" + self.app().locator("body").evaluate(POSTLESS_APP)
        return shown["chrome"], shown["chat"]

    def app(self) -> FrameLocator:
        return self.page.frame_locator("#webapp-frame")

    def bot(self, text: str) -> Locator:
        """The chat's bot messages holding `text`."""
        return self.page.locator(".msg.bot", has_text=text)

    def tap(self, message_text: str, label: str) -> None:
        """Press `label` on the newest bot message holding `message_text`."""
        self.bot(message_text).last.locator(".keyboard button", has_text=label).click()


POSTLESS_CHAT = """() => {
  const shown = [...document.querySelectorAll('header, #history-note, #composer, #webapp .bar')]
    .filter((node) => node.checkVisibility()).map((node) => node.innerText);
  const messages = [...document.querySelectorAll('#messages .msg')].map((message) => {
    const text = message.querySelector('.text').innerText;
    const post = /^(📊|🔔)/.test(text) || message.querySelector('.keyboard button')?.textContent.startsWith('👍');
    return [post ? text.split('\\n')[0] : text, message.querySelector('.keyboard').innerText].join(' ');
  });
  const edited = [...document.querySelectorAll('#messages .edited')].map((node) => node.innerText);
  const toast = document.getElementById('toast');
  if (toast.checkVisibility()) messages.push(toast.innerText);
  const chrome = [...shown, document.getElementById('text').placeholder, ...edited];
  return {chrome: chrome.join('\\n'), chat: messages.join('\\n')};
}"""
POSTLESS_APP = """(body) => {
  let text = body.innerText;
  for (const part of body.querySelectorAll('.card .text, .card .channel')) text = text.replace(part.innerText, '');
  return text;
}"""


def home_page(journey: Journey) -> None:
    """The address `make run` prints: it says what is where and leads to the sandbox chat."""
    page = journey.page
    expect(page.locator("h1")).to_have_text("PPB — Personalized Post Bot")
    screenshot(page, f"{journey.folder}/00-home")
    page.click("a[href='/sandbox/']")
    expect(page.locator("#composer")).to_be_visible()
    expect(page.locator("#user-id")).to_have_value(str(journey.user_id))
    expect(page.locator("#history-note")).to_contain_text(journey.browser.page_note)


def welcome_and_language(journey: Journey) -> None:
    """/start greets the person in their browser's language; they choose theirs in the welcome."""
    words, welcome = journey.words, journey.browser.welcome
    sandbox_send(journey.page, "/start")
    expect(journey.bot(welcome)).to_have_count(1)
    journey.shot("start")
    journey.tap(welcome, words.choose)
    journey.reading = words
    expect(journey.page.locator("#toast")).to_have_text(words.chosen)
    expect(journey.bot(words.start_training)).to_have_count(1)
    journey.shot("language")


def training(journey: Journey) -> None:
    """Rate every card as a person would: 👍 for one channel, 👎 for the other; the third in
    the Mini App the chat's menu button opens (the chat's card then says it was rated)."""
    words = journey.words
    journey.tap(words.start_training, words.start_training)
    complete = journey.bot(words.complete)
    for number in range(1, 40):
        card = journey.bot(words.card.format(number=number))
        wait_until(lambda: card.count() > 0 or complete.count() > 0, 20, f"card {number} or the end of training")
        if complete.count():
            break
        if number == 2:
            expect(card.last.locator(".keyboard button", has_text=words.train_in_app)).to_have_count(1)
            journey.shot("training")
        if number == 3:
            mini_app_training(journey)
        text = card.last.inner_text()
        card.last.locator(".keyboard button", has_text="👍" if "Tech Pulse" in text else "👎").click()
    expect(complete).to_have_count(1)
    expect(complete.locator(".keyboard button", has_text=words.view_feed)).to_have_count(1)
    journey.shot("trained")


def mini_app_training(journey: Journey) -> None:
    """The chat's menu button opens the Mini App on the training where the chat is: a swipe
    rates the next card."""
    page, app = journey.page, journey.app()
    page.click("#menu-button")
    expect(app.locator("#app")).to_have_attribute("data-state", "ready")
    expect(app.locator("[data-mode=training]")).to_have_attribute("aria-selected", "true")
    expect(app.locator("[data-role=progress-label]")).to_have_text(re.compile(r"^2 / \d+$"))
    top = app.locator(".card[data-top]")
    post_id = int(top.get_attribute("data-post-id") or 0)
    liked = top.locator(".channel").inner_text() == "Tech Pulse"
    swipe(page, top, 260 if liked else -260)
    expect(app.locator("[data-role=progress-label]")).to_have_text(re.compile(r"^3 / \d+$"))
    wait_until(lambda: rating(journey, post_id) == ("like" if liked else "dislike"), 15, "the swipe stored")
    journey.shot("mini-app-training")
    page.click("#webapp-close")


def feed(journey: Journey) -> None:
    """The feed page arrives; a 👍 on its last post, where the person looks, marks it."""
    words = journey.words
    journey.tap(words.complete, words.view_feed)
    expect(journey.bot(words.feed)).to_have_count(1)
    posts = journey.page.locator(".msg.bot", has=journey.page.locator(".keyboard button", has_text="👎"))
    post = journey.page.locator(f'.msg[data-message-id="{posts.last.get_attribute("data-message-id")}"]')
    post.locator(".keyboard button", has_text="👍").click()
    expect(post.locator(".keyboard button", has_text="👍 ✓")).to_have_count(1)
    journey.shot("feed")


def settings(journey: Journey) -> None:
    """A mistyped time gets a sentence in the person's language; a city names the time zone."""
    words = journey.words
    sandbox_send(journey.page, "/settings")
    expect(journey.bot(words.settings)).to_have_count(1)
    journey.tap(words.settings, words.quiet_hours)
    sandbox_send(journey.page, "25:99")
    expect(journey.bot(words.bad_quiet)).to_have_count(1)
    journey.shot("settings-bad-time")
    sandbox_send(journey.page, "23:00-07:30")
    expect(journey.bot("23:00–07:30")).to_have_count(1)
    journey.tap(words.settings, words.time_zone)
    sandbox_send(journey.page, words.city)
    expect(journey.bot(words.saved)).to_have_count(1)
    expect(journey.bot("Europe/Moscow")).to_have_count(1)
    journey.shot("settings-time-zone")


def help_page(journey: Journey) -> None:
    sandbox_send(journey.page, "/help")
    expect(journey.bot(journey.words.help)).to_have_count(1)
    journey.shot("help")


def export(journey: Journey) -> None:
    """/export sends the person's data as a file, its caption in their language."""
    sandbox_send(journey.page, "/export")
    sent = journey.bot(journey.words.export)
    expect(sent.locator(".document .name")).to_have_text("ppb-my-data.json")
    journey.shot("export")


# the Mini App and the console -------------------------------------------------------------------


def mini_app(journey: Journey) -> None:
    """The main menu opens the Mini App on the feed: a swipe rates, its settings show the chat's."""
    words, app = journey.words, journey.app()
    sandbox_send(journey.page, "/menu")
    expect(journey.bot(words.main_menu)).to_have_count(1)
    journey.tap(words.main_menu, words.open_app)
    expect(app.locator("#app")).to_have_attribute("data-state", "ready")
    expect(app.locator("html")).to_have_attribute("lang", words.code)
    expect(app.locator("[data-mode=feed]")).to_have_attribute("aria-selected", "true")
    expect(app.locator("[data-mode=feed]")).to_have_text(words.app_feed)
    expect(app.locator("[data-action=like]")).to_contain_text(words.app_like)
    journey.shot("mini-app-feed")
    top = app.locator(".card[data-top]")
    first = top.get_attribute("data-post-id")
    swipe(journey.page, top, 260)
    expect(top).not_to_have_attribute("data-post-id", first or "")
    wait_until(lambda: rating(journey, int(first or 0)) == "like", 15, "the swipe's 👍 stored")
    journey.shot("mini-app-swiped")
    app.locator("button[data-view=settings]").click()
    expect(app.locator("button[data-view=settings]")).to_have_text(words.app_settings)
    form = app.locator("[data-role=settings]")
    expect(form.locator("[name=timezone]")).to_have_value("Europe/Moscow")
    expect(form).to_contain_text(words.app_zone)
    journey.shot("mini-app-settings")
    journey.page.click("#webapp-close")


def rating(journey: Journey, post_id: int) -> str | None:
    rows = journey.running.run(journey.running.harness.api("GET", f"/posts/interactions/{journey.user_id}"))
    return next((row["interaction_type"] for row in rows["interactions"] if row["post_id"] == post_id), None)


def console(journey: Journey) -> None:
    """The operators sign in and find the person, trained, with the ratings just made."""
    page = journey.page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{journey.running.harness.base}/console/")
    page.fill("input[name=api_key]", API_KEY)
    page.fill("input[name=operator]", "olga")
    page.click("button[type=submit]")
    expect(page.locator("#console")).to_have_attribute("data-state", "ready")
    page.click("[data-tab=users]")
    page.fill("[data-role=user-search] input[name=search]", str(journey.user_id))
    page.click("[data-role=user-search] button")
    expect(page.locator("#console")).to_have_attribute("data-users", "1")
    row = page.locator("[data-role=users-table] tbody tr")
    expect(row).to_contain_text("active")
    row.click()
    detail = page.locator("[data-role=user-detail]")
    expect(detail).to_contain_text("Status history")
    expect(detail.locator("[data-role=user-line]")).to_contain_text(f"status active · language {journey.words.code}")
    journey.step += 1
    screenshot(page, f"{journey.folder}/{journey.step:02d}-console")
    machine = [marker for marker in MACHINE_TEXT if marker in detail.inner_text()]
    assert not machine, f"the console shows machine text: {machine}"


@pytest.mark.parametrize(
    ("words", "browser_words", "folder"),
    [(ENGLISH, ENGLISH, "en"), (RUSSIAN, RUSSIAN, "ru"), (RUSSIAN, ENGLISH, "ru-chosen-in-english")],
    ids=["english", "russian", "russian-chosen-in-an-english-browser"],
)
def test_a_new_persons_journey_reads_right_at_every_step(browser: Browser, running: Running, new_id, words: Words,
                                                         browser_words: Words, folder: str) -> None:
    user_id = new_id()
    with sandbox_chat(browser, running.harness.base, user_id, locale=browser_words.locale, path="/") as page:
        journey = Journey(page, running, words, browser_words, user_id, f"journey/{folder}")
        for step in (home_page, welcome_and_language, training, feed, settings, help_page, export, mini_app,
                     console):
            step(journey)
