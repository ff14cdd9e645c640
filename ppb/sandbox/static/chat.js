// The sandbox web chat: a person's side of a chat with the bot. Text is always shown as
// text (text nodes), never parsed as HTML; its entities (what Telegram made of the bot's
// HTML) are drawn around those text nodes, as a Telegram client does.
"use strict";

const api = "/sandbox/api";
const $ = (id) => document.getElementById(id);
let version = 0;
let lastAnswer = null;

function userId() {
  let id = localStorage.getItem("ppb-sandbox-user");
  if (!id) {
    id = String(100000 + Math.floor(Math.random() * 900000));
    localStorage.setItem("ppb-sandbox-user", id);
  }
  return id;
}

function firstName() {
  return localStorage.getItem("ppb-sandbox-name") || "Sandbox user";
}

// The person's language as a Telegram client sends it (its own interface language, here
// the browser's): "ru" for a Russian browser, so the bot greets them in Russian.
function languageCode() {
  return (navigator.language || "").slice(0, 2).toLowerCase() || undefined;
}

function who() {
  return { first_name: firstName(), language_code: languageCode() };
}

// The page's own words in the person's language, as a Telegram client shows its own (the
// bot's rule: these languages read Russian).
const READS_RUSSIAN = ["ru", "uk", "be", "kk"];
const PAGE_WORDS = {
  en: {
    id: "your id", name: "name", send: "Send", placeholder: "Message (try /start)", edited: "edited",
    webapp: "Mini App", menu: "Menu", key: "This sandbox needs the API key (PPB_API_KEY):",
    note: "The sandbox keeps chats in memory: after PPB restarts this chat starts empty, while your ratings, channels and training are kept. Send /start to carry on.",
  },
  ru: {
    id: "твой id", name: "имя", send: "Отправить", placeholder: "Сообщение (попробуй /start)", edited: "изменено",
    webapp: "Мини-приложение", menu: "Меню", key: "Песочнице нужен ключ API (PPB_API_KEY):",
    note: "Песочница хранит чаты в памяти: после перезапуска PPB этот чат начнётся пустым, а твои оценки, каналы и обучение сохранятся. Отправь /start, чтобы продолжить.",
  },
};
const words = PAGE_WORDS[READS_RUSSIAN.includes(languageCode()) ? "ru" : "en"];

function translatePage() {
  document.documentElement.lang = words === PAGE_WORDS.ru ? "ru" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = words[node.dataset.i18n];
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = words[node.dataset.i18nPlaceholder];
}

async function call(method, path, body) {
  // Off loopback the sandbox asks for the API key (PPB_API_KEY); it is kept for this tab only.
  const headers = body ? { "Content-Type": "application/json" } : {};
  const key = sessionStorage.getItem("ppb-sandbox-key");
  if (key) headers["X-API-Key"] = key;
  const response = await fetch(api + path, {
    method,
    headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 401 && !call.asked) {
    call.asked = true;
    const given = window.prompt(words.key);
    if (given) {
      sessionStorage.setItem("ppb-sandbox-key", given);
      call.asked = false;
      return call(method, path, body);
    }
  }
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error((data && data.detail) || response.statusText);
  return data;
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 2500);
}

async function openWebApp(url) {
  const signed = await call("GET", `/chats/${userId()}/webapp?url=${encodeURIComponent(url)}`);
  $("webapp-frame").src = signed.url;
  $("webapp").hidden = false;
}

function keyboard(message) {
  const rows = (message.reply_markup && message.reply_markup.inline_keyboard) || [];
  const box = document.createElement("div");
  box.className = "keyboard";
  for (const row of rows) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      const element = document.createElement("button");
      element.type = "button";
      element.textContent = button.text;
      if (button.callback_data !== undefined) {
        element.dataset.callback = button.callback_data;
        element.addEventListener("click", () =>
          call("POST", `/chats/${userId()}/callbacks`, { message_id: message.message_id, data: button.callback_data })
            .catch((error) => toast(error.message)));
      } else if (button.web_app) {
        element.addEventListener("click", () => openWebApp(button.web_app.url).catch((error) => toast(error.message)));
      } else if (button.url) {
        element.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
      }
      line.appendChild(element);
    }
    box.appendChild(line);
  }
  return box;
}

// Entities by type: the element that shows it (offsets count UTF-16 code units, as
// JavaScript strings do). A link's URL is set only when it is http(s).
const ENTITY_TAGS = {
  bold: "strong", italic: "em", underline: "u", strikethrough: "s", code: "code", pre: "pre",
  spoiler: "span", blockquote: "blockquote", expandable_blockquote: "blockquote", text_link: "a",
};

function formatted(text, entities) {
  const shown = (entities || []).filter((e) => ENTITY_TAGS[e.type]);
  const bounds = [...new Set([0, text.length, ...shown.flatMap((e) => [e.offset, e.offset + e.length])])]
    .filter((at) => at >= 0 && at <= text.length).sort((a, b) => a - b);
  const nodes = [];
  for (let i = 0; i + 1 < bounds.length; i += 1) {
    const [start, end] = [bounds[i], bounds[i + 1]];
    let node = document.createTextNode(text.slice(start, end));
    const around = shown.filter((e) => e.offset <= start && e.offset + e.length >= end)
      .sort((a, b) => (b.offset - a.offset) || (a.length - b.length));  // innermost first
    for (const entity of around) {
      const wrap = document.createElement(ENTITY_TAGS[entity.type]);
      wrap.dataset.entity = entity.type;
      if (entity.type === "spoiler") wrap.className = "spoiler";
      if (entity.type === "text_link" && /^https?:/i.test(entity.url || "")) {
        wrap.href = entity.url;
        wrap.target = "_blank";
        wrap.rel = "noopener noreferrer";
      }
      wrap.appendChild(node);
      node = wrap;
    }
    nodes.push(node);
  }
  return nodes;
}

// The menu button beside the composer, as the bot set it (setChatMenuButton): a Mini App's
// button opens it; otherwise "Menu" lists the bot's commands (setMyCommands).
function renderMenuButton(menu) {
  const button = $("menu-button");
  button.hidden = false;
  if (menu && menu.type === "web_app") {
    button.textContent = menu.text;
    button.dataset.kind = "web_app";
    button.onclick = () => openWebApp(menu.web_app.url).catch((error) => toast(error.message));
    $("commands").hidden = true;
    return;
  }
  const commands = (menu && menu.commands) || [];
  button.hidden = !commands.length;
  button.textContent = words.menu;
  button.dataset.kind = "commands";
  const list = $("commands");
  list.replaceChildren(...commands.map((command) => {
    const item = document.createElement("li");
    item.textContent = "/" + command.command;
    const description = document.createElement("span");
    description.className = "description";
    description.textContent = command.description;
    item.appendChild(description);
    item.addEventListener("click", () => {
      list.hidden = true;
      call("POST", `/chats/${userId()}/messages`, { text: "/" + command.command, ...who() })
        .catch((error) => toast(error.message));
    });
    return item;
  }));
  button.onclick = () => { list.hidden = !list.hidden; };
}

function render(chat) {
  renderMenuButton(chat.menu_button);
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren();
  for (const message of chat.messages) {
    const bubble = document.createElement("div");
    bubble.className = "msg " + (message.from_bot ? "bot" : "me");
    bubble.dataset.messageId = String(message.message_id);
    if (message.photo) {
      const photo = document.createElement("div");
      photo.className = "photo";
      photo.textContent = "🖼";
      bubble.appendChild(photo);
    }
    if (message.document) bubble.appendChild(documentCard(message.document));
    const text = document.createElement("div");
    text.className = "text";
    text.append(...formatted(message.text ?? message.caption ?? "", message.entities));
    bubble.appendChild(text);
    if (message.edited) {
      const mark = document.createElement("span");
      mark.className = "edited";
      mark.textContent = words.edited;
      bubble.appendChild(mark);
    }
    bubble.appendChild(keyboard(message));
    list.appendChild(bubble);
  }
  if (atBottom) list.scrollTop = list.scrollHeight;
  const answer = chat.answers[chat.answers.length - 1];
  if (answer && answer.callback_query_id !== lastAnswer) {
    lastAnswer = answer.callback_query_id;
    if (answer.text) toast(answer.text);
  }
}

/** A file the bot sent, as a Telegram client shows it: its name and size, opened by a tap
    (saved from the bytes the emulator kept; nothing is fetched). */
function documentCard(file) {
  const link = document.createElement("a");
  link.className = "document";
  link.download = file.file_name || "document";
  link.href = URL.createObjectURL(new Blob([file.content ?? ""], { type: file.mime_type || "application/octet-stream" }));
  const icon = document.createElement("span");
  icon.className = "icon";
  icon.textContent = "📄";
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = link.download;
  const size = document.createElement("span");
  size.className = "size";
  size.textContent = file.size < 1024 ? `${file.size} B` : `${(file.size / 1024).toFixed(1)} KB`;
  link.append(icon, name, size);
  return link;
}

async function poll() {
  for (;;) {
    try {
      const chat = await call("GET", `/chats/${userId()}?after_version=${version}`);
      if (chat.version !== version || version === 0) render(chat);
      version = chat.version;
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function main() {
  translatePage();
  $("user-id").value = userId();
  $("first-name").value = firstName();
  $("user-id").addEventListener("change", () => {
    localStorage.setItem("ppb-sandbox-user", $("user-id").value);
    location.reload();
  });
  $("first-name").addEventListener("change", () => localStorage.setItem("ppb-sandbox-name", $("first-name").value));
  $("webapp-close").addEventListener("click", () => { $("webapp").hidden = true; $("webapp-frame").src = "about:blank"; });
  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (!text) return;
    $("text").value = "";
    await call("POST", `/chats/${userId()}/messages`, { text, ...who() }).catch((error) => toast(error.message));
  });
  call("GET", "/bot").then((bot) => { $("bot-name").textContent = "@" + bot.username; }).catch(() => {});
  poll();
}

main();
