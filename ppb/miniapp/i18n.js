/* The app's texts in English and Russian; PPB.t(key, values) picks the current language. */
"use strict";
(function () {
  const TEXTS = {
    en: {
      mode_training: "Training",
      mode_feed: "Feed",
      like: "Like",
      dislike: "Dislike",
      skip: "Skip",
      open_post: "Open in Telegram",
      loading: "Loading…",
      progress: "{done} / {total}",
      offline: {
        one: "You are offline. Your ratings are saved on this device and will be sent when the connection is back ({count} waiting).",
        other: "You are offline. Your ratings are saved on this device and will be sent when the connection is back ({count} waiting).",
      },
      auth_failed: "Telegram could not confirm who you are. Close the app and open it again from the bot.",
      no_launch: "Open this app from the PPB bot in Telegram.",
      load_failed: "Posts could not be loaded: {detail}",
      training_done: "Training is done. Your feed is ready.",
      training_empty: "There is nothing to rate yet. Add channels in the bot.",
      feed_empty: "No new posts for now. Come back later.",
      show_feed: "Show my feed",
      reload: "Check again",
      media_text: "Text",
      media_photo: "Photo",
      media_video: "Video",
      media_document: "File",
      media_audio: "Audio",
      media_voice: "Voice",
      media_poll: "Poll",
      finish_now: "Finish training now",
      finishing: "Training your model…",
      no_launch_sandbox: "This is the sandbox: open the Mini App from the sandbox chat, where it opens signed in.",
      open_sandbox: "Open the sandbox chat",
      mode_settings: "Settings",
      set_delivery: "Delivery",
      set_delivery_both: "Live posts and a digest",
      set_delivery_live: "Live posts only",
      set_delivery_digest: "The digest only",
      set_delivery_off: "Nothing unasked",
      set_digest: "Digest",
      set_digest_daily: "Daily",
      set_digest_twice: "Twice a day",
      set_digest_off: "Off",
      set_digest_time: "Digest time",
      set_timezone: "Time zone",
      set_quiet: "Quiet hours",
      set_quiet_from: "from",
      set_quiet_to: "to",
      set_mute: "Muted words (comma-separated): a post with one is never shown",
      set_must: "Must-see words (comma-separated): a post with one always reaches you, within your quiet hours and limits",
      set_dials: "Channels: more, less or never, whatever the model thinks",
      dial_normal: "Normal",
      dial_more: "More",
      dial_less: "Less",
      dial_never: "Never",
      set_hide_ads: "Hide ads",
      set_save: "Save",
      skipped: {
        one: "{count} post of {channels} left out: your verdict there is clear.",
        other: "{count} posts of {channels} left out: your verdict there is clear.",
      },
      set_saved: "Saved.",
      set_failed: "Not saved. Check the fields and try again.",
      set_failed_offline: "Not saved: there is no connection. Try again in a moment.",
      set_load_failed: "Your settings could not be loaded. Try again in a moment.",
      set_load_offline: "Your settings could not be loaded: there is no connection.",
      set_zone_hint: "A city, a country or a zone: Moscow, Germany, Europe/Berlin",
      set_zone_device: "Use this device's time zone: {zone}",
      set_zone_several: "“{place}” has several time zones. Pick yours:",
      set_zone_unknown: "I don't know the place “{place}”. Type a big city near you with the same time, or your country, for example Moscow, Almaty or Germany.",
      set_bad_timezone: "Type your city or country, for example Moscow, Almaty or Germany, or a time zone such as Europe/Berlin.",
      set_bad_digest_time: "Choose the digest time as hours and minutes, for example 09:00.",
      set_bad_quiet: "Choose when the quiet hours start and end, for example from 23:00 to 08:00, or turn them off.",
      set_bad_mute_words: "Each muted word needs a letter or a digit and at most 64 characters, 100 words at most, separated by commas, for example: crypto, football.",
      set_bad_must_words: "Each must-see word needs a letter or a digit and at most 64 characters, 100 words at most, separated by commas, for example: release, eclipse.",
      set_bad_channel_dials: "A channel is gone meanwhile: open the settings again to see your channels.",
      kept_rating: "You had rated this post {rating} in the chat already: that rating stays.",
      why: "❓ Why?",
      why_title: "Why this post:",
      why_must: "📌 It has your must-see word “{word}”.",
      why_explore: "🧭 A topic you haven't rated yet: one post in ten is there to find what else you like.",
      why_liked: "👍 Like a post you liked: “{quote}”",
      why_liked_plain: "👍 Like posts you liked.",
      why_text: "✍️ Written like posts you liked: “{quote}”",
      why_text_plain: "✍️ Written like posts you liked.",
      why_peers: "👥 People who like what you like liked it.",
      why_channel: "📺 {channel} has a good record with you and other readers.",
      why_dial: "🔼 You turned {channel} up.",
      why_nothing: "Nothing stood out: it is simply among the best posts left in your channels.",
      why_failed: "The reasons could not be loaded. Try again in a moment.",
    },
    ru: {
      mode_training: "Обучение",
      mode_feed: "Лента",
      like: "Нравится",
      dislike: "Не нравится",
      skip: "Пропустить",
      open_post: "Открыть в Telegram",
      loading: "Загрузка…",
      progress: "{done} / {total}",
      offline: {
        one: "Нет связи. Оценки сохранены на этом устройстве и уйдут, когда связь вернётся ({count} оценка ждёт).",
        few: "Нет связи. Оценки сохранены на этом устройстве и уйдут, когда связь вернётся ({count} оценки ждут).",
        many: "Нет связи. Оценки сохранены на этом устройстве и уйдут, когда связь вернётся ({count} оценок ждут).",
      },
      auth_failed: "Telegram не подтвердил, кто ты. Закрой приложение и открой его снова из бота.",
      no_launch: "Открой это приложение из бота PPB в Telegram.",
      load_failed: "Не удалось загрузить посты: {detail}",
      training_done: "Обучение завершено. Твоя лента готова.",
      training_empty: "Пока нечего оценивать. Добавь каналы в боте.",
      feed_empty: "Новых постов пока нет. Загляни позже.",
      show_feed: "Открыть ленту",
      reload: "Проверить снова",
      media_text: "Текст",
      media_photo: "Фото",
      media_video: "Видео",
      media_document: "Файл",
      media_audio: "Аудио",
      media_voice: "Голосовое",
      media_poll: "Опрос",
      finish_now: "Завершить обучение",
      finishing: "Обучаю модель…",
      no_launch_sandbox: "Это песочница: открой мини-приложение из чата песочницы, там вход выполняется сам.",
      open_sandbox: "Открыть чат песочницы",
      mode_settings: "Настройки",
      set_delivery: "Доставка",
      set_delivery_both: "Посты сразу и дайджест",
      set_delivery_live: "Только посты сразу",
      set_delivery_digest: "Только дайджест",
      set_delivery_off: "Ничего без запроса",
      set_digest: "Дайджест",
      set_digest_daily: "Каждый день",
      set_digest_twice: "Дважды в день",
      set_digest_off: "Выключен",
      set_digest_time: "Время дайджеста",
      set_timezone: "Часовой пояс",
      set_quiet: "Тихие часы",
      set_quiet_from: "с",
      set_quiet_to: "до",
      set_mute: "Скрытые слова (через запятую): пост с таким словом не покажется",
      set_must: "Важные слова (через запятую): пост с таким словом дойдёт до тебя всегда, в пределах тихих часов и лимитов",
      set_dials: "Каналы: больше, меньше или никогда, что бы ни думала модель",
      dial_normal: "Как обычно",
      dial_more: "Больше",
      dial_less: "Меньше",
      dial_never: "Никогда",
      set_hide_ads: "Скрывать рекламу",
      set_save: "Сохранить",
      skipped: {
        one: "Пропускаю {count} пост из {channels}: твоё мнение там уже понятно.",
        few: "Пропускаю {count} поста из {channels}: твоё мнение там уже понятно.",
        many: "Пропускаю {count} постов из {channels}: твоё мнение там уже понятно.",
      },
      set_saved: "Сохранено.",
      set_failed: "Не сохранено. Проверь поля и попробуй ещё раз.",
      set_failed_offline: "Не сохранено: нет связи. Попробуй чуть позже.",
      set_load_failed: "Не удалось загрузить настройки. Попробуй чуть позже.",
      set_load_offline: "Не удалось загрузить настройки: нет связи.",
      set_zone_hint: "Город, страна или пояс: Москва, Германия, Europe/Berlin",
      set_zone_device: "Взять часовой пояс этого устройства: {zone}",
      set_zone_several: "В «{place}» несколько часовых поясов. Выбери свой:",
      set_zone_unknown: "Не знаю место «{place}». Напиши крупный город рядом с тобой, где то же время, или свою страну, например Москва, Алматы или Германия.",
      set_bad_timezone: "Напиши свой город или страну, например Москва, Алматы или Германия, или часовой пояс вроде Europe/Berlin.",
      set_bad_digest_time: "Укажи время дайджеста в часах и минутах, например 09:00.",
      set_bad_quiet: "Укажи, когда тихие часы начинаются и заканчиваются, например с 23:00 до 08:00, или выключи их.",
      set_bad_mute_words: "В каждом скрытом слове нужна буква или цифра и не больше 64 символов, всего не больше 100 слов, через запятую, например: крипта, футбол.",
      set_bad_must_words: "В каждом важном слове нужна буква или цифра и не больше 64 символов, всего не больше 100 слов, через запятую, например: релиз, затмение.",
      set_bad_channel_dials: "Одного из каналов уже нет: открой настройки заново, чтобы увидеть свои каналы.",
      kept_rating: "Ты уже оценил этот пост в чате ({rating}): эта оценка остаётся.",
      why: "❓ Почему?",
      why_title: "Почему этот пост:",
      why_must: "📌 В нём твоё важное слово «{word}».",
      why_explore: "🧭 Тема, которой ещё нет в твоих оценках: один пост из десяти ищет, что ещё тебе нравится.",
      why_liked: "👍 Похож на пост, который тебе понравился: «{quote}»",
      why_liked_plain: "👍 Похож на посты, которые тебе понравились.",
      why_text: "✍️ Написан как посты, которые тебе понравились: «{quote}»",
      why_text_plain: "✍️ Написан как посты, которые тебе понравились.",
      why_peers: "👥 Он понравился тем, кому нравится то же, что и тебе.",
      why_channel: "📺 У {channel} хорошие оценки: твои и других читателей.",
      why_dial: "🔼 Регулятор {channel} стоит на «больше».",
      why_nothing: "Ничего особенного: просто он среди лучших оставшихся постов твоих каналов.",
      why_failed: "Не удалось загрузить причины. Попробуй чуть позже.",
    },
  };

  let language = "en";

  // The same fallback as the bot's (ppb/domain/languages.py): these read Russian.
  const READS_RUSSIAN = ["ru", "uk", "be", "kk"];

  function pickLanguage(...codes) {
    for (const code of codes) {
      if (code) return READS_RUSSIAN.includes(String(code).toLowerCase().slice(0, 2)) ? "ru" : "en";
    }
    return "en";
  }

  function setLanguage(code) {
    language = TEXTS[code] ? code : "en";
    document.documentElement.lang = language;
    for (const node of document.querySelectorAll("[data-i18n]")) {
      node.textContent = t(node.dataset.i18n);
    }
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
      node.placeholder = t(node.dataset.i18nPlaceholder);
    }
  }

  function t(key, values) {
    const text = TEXTS[language][key] ?? TEXTS.en[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, name) => String(values?.[name] ?? ""));
  }

  /** A text with a count, in the form the language's plural rules choose (1 пост, 3 поста, 5 постов). */
  function tn(key, count, values) {
    const forms = TEXTS[language][key] ?? TEXTS.en[key];
    const form = forms[new Intl.PluralRules(language).select(count)] ?? forms.other ?? forms.many;
    return form.replace(/\{(\w+)\}/g, (_, name) => String(name === "count" ? count : values?.[name] ?? ""));
  }

  window.PPB = Object.assign(window.PPB || {}, {
    t, tn, setLanguage, pickLanguage, language: () => language,
  });
})();
