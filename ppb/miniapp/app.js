/* The deck: cards to rate by swipe (right like, left dislike) or by the buttons.
   Channel titles are set with textContent only; a post's text is plain text, or the
   formatting format.js rebuilds from whitelisted nodes (never innerHTML). */
"use strict";
(function () {
  const { t, tn, setLanguage, pickLanguage, launch, loadTelegramScript, applyTheme, bridge, Api, RatingQueue, Offline, AuthError, formatted } = window.PPB;
  const VISIBLE = 3;
  const LIMIT = 50;
  const MIN_RATINGS = 5;  // as the server: ratings after which training may be finished early
  const READING = new Set(["trained", "active", "churned"]);  // statuses whose deck is the feed
  const askedMode = new URLSearchParams(window.location.search).get("mode");

  const root = document.getElementById("app");
  const $ = (role) => root.querySelector(`[data-role="${role}"]`);
  const deckEl = $("deck");

  const start = launch();
  const userKey = start.user && start.user.id ? String(start.user.id) : "anonymous";
  const state = {
    mode: askedMode === "feed" ? "feed" : "training",
    cards: [],
    index: 0,
    done: 0,
    total: 0,
    canFinish: false,
    finished: false,
    rated: new Set(),
    fromCache: false,
    refreshTimer: null,
    queue: { pending: 0, offline: false, authFailed: false },
    skipped: { count: 0, channels: [] },  // training: posts left out, their channel's verdict being clear
  };

  setLanguage(pickLanguage(start.user && start.user.language_code, navigator.language));
  applyTheme(start.theme);
  bridge.ready();
  loadTelegramScript((app) => { applyTheme(app.themeParams || {}); bridge.ready(); renderChrome(); });

  const api = new Api(start.initData);
  const queue = new RatingQueue(api, userKey, (queueState) => {
    state.queue = queueState;
    const answer = queueState.sent && queueState.sent.answer;
    if (answer && answer.kept) showKept(answer.interaction_type);
    if (queueState.answer && queueState.answer.training) applyProgress(queueState.answer.training);
    if (queueState.sent && state.fromCache) refreshDeck();  // the API answers again
    renderChrome();
  });

  // storage of what this user last loaded, for launching without a connection ---------------

  function remember(name, value) {
    try { localStorage.setItem(`ppb:${name}:${userKey}`, JSON.stringify(value)); } catch (_) { /* full */ }
  }

  function recall(name) {
    try { return JSON.parse(localStorage.getItem(`ppb:${name}:${userKey}`) || "null"); } catch (_) { return null; }
  }

  // loading ------------------------------------------------------------------------------

  async function boot() {
    if (!start.initData) return noLaunch();
    let me;
    try {
      me = await api.call("GET", "me");
      remember("me", me);
    } catch (error) {
      if (error instanceof AuthError) return fail("auth-error", t("auth_failed"), error.message);
      if (!(error instanceof Offline)) return fail("error", t("load_failed", { detail: error.message }));
      me = recall("me");
    }
    if (me) setLanguage(me.ui_language);
    // Opened without a mode (the chat's menu button): training while there is one, else the feed.
    if (!askedMode && me && READING.has(me.status)) state.mode = "feed";
    await loadDeck(state.mode);
    queue.flush();  // ratings left from an earlier visit
  }

  /** Opened without launch parameters: point to the sandbox chat when this is the sandbox. */
  async function noLaunch() {
    fail("no-launch", t("no_launch"));
    let about = null;
    try { about = await api.call("GET", "about"); } catch (_) { return; }
    if (!about || !about.sandbox_url) return;
    $("error").textContent = t("no_launch_sandbox");
    const link = $("sandbox-link");
    link.href = about.sandbox_url;
    link.textContent = t("open_sandbox");
    $("sandbox").hidden = false;
  }

  /** Train the model now and complete the training (the chat sees the same). */
  async function finishNow() {
    $("finish").disabled = true;
    $("finish").textContent = t("finishing");
    await queue.flush();
    try {
      const data = await api.call("POST", "training/finish", {});
      applyTraining(data);
      state.cards = [];
      state.index = 0;
    } catch (error) {
      if (error instanceof AuthError) return fail("auth-error", t("auth_failed"), error.message);
    }
    $("finish").disabled = false;
    $("finish").textContent = t("finish_now");
    render();
  }

  function applyTraining(data) {
    state.canFinish = Boolean(data.can_finish);
    state.finished = Boolean(data.finished);
    state.skipped = { count: data.skipped || 0, channels: data.settled || [] };
  }

  /** The server's word after a rating: a channel whose verdict is now clear leaves the deck
      (its cards are no longer dealt), and the total follows, said why. */
  function applyProgress(progress) {
    if (state.mode !== "training") return;
    const dropped = new Set(progress.dropped || []);
    const ahead = state.cards.slice(state.index);
    const kept = ahead.filter((post) => !dropped.has(post.id));
    state.cards = state.cards.slice(0, state.index).concat(kept);
    state.total = progress.total;
    state.done = Math.max(state.done, progress.done);
    state.finished = Boolean(progress.finished);
    state.skipped = { count: progress.skipped || 0, channels: progress.settled || [] };
    if (kept.length !== ahead.length) render(); else renderChrome();
  }

  async function loadDeck(mode) {
    state.mode = mode;
    root.dataset.state = "loading";
    let data;
    state.fromCache = false;
    try {
      data = await api.call("GET", `posts?mode=${mode}&limit=${LIMIT}`);
      remember(`deck:${mode}`, data);
    } catch (error) {
      if (error instanceof AuthError) return fail("auth-error", t("auth_failed"), error.message);
      if (!(error instanceof Offline)) return fail("error", t("load_failed", { detail: error.message }));
      data = recall(`deck:${mode}`) || { posts: [], total: 0, done: 0 };
      state.fromCache = true;
    }
    const waiting = queue.pendingIds();
    const skipped = data.posts.filter((post) => state.rated.has(post.id) || waiting.has(post.id)).length;
    state.cards = data.posts.filter((post) => !state.rated.has(post.id) && !waiting.has(post.id));
    state.index = 0;
    state.total = mode === "training" ? data.total : state.cards.length;
    state.done = mode === "training" ? data.done + (state.fromCache ? skipped : 0) : 0;
    if (mode === "training") applyTraining(data);
    render();
    if (state.fromCache) scheduleRefresh();
  }

  /** After a launch from this device's copy: fetch the deck again, keeping the cards shown. */
  async function refreshDeck() {
    clearTimeout(state.refreshTimer);
    const mode = state.mode;
    let data;
    try {
      data = await api.call("GET", `posts?mode=${mode}&limit=${LIMIT}`);
    } catch (error) {
      if (error instanceof AuthError) return fail("auth-error", t("auth_failed"), error.message);
      return scheduleRefresh();
    }
    if (mode !== state.mode || !state.fromCache) return;
    remember(`deck:${mode}`, data);
    state.fromCache = false;
    const known = new Set(state.cards.map((post) => post.id));
    const waiting = queue.pendingIds();
    state.cards.push(...data.posts.filter((post) => !known.has(post.id) && !state.rated.has(post.id) && !waiting.has(post.id)));
    if (mode === "training") {
      state.total = data.total;
      state.done = Math.max(state.done, data.done + waiting.size);
      applyTraining(data);
    } else {
      state.total = state.cards.length;
    }
    render();
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refreshDeck, 3000);
  }

  function fail(kind, message, detail) {
    root.dataset.state = kind;
    const box = $("error");
    box.textContent = message;
    if (detail) box.title = detail;
    box.hidden = false;
    bridge.haptic("error");
    renderChrome();
  }

  // rating -------------------------------------------------------------------------------

  function topCard() {
    return deckEl.querySelector(".card[data-top]");
  }

  function rate(kind) {
    const card = topCard();
    if (!card || root.dataset.state === "auth-error") return;
    const postId = Number(card.dataset.postId);
    state.rated.add(postId);
    state.index += 1;
    state.done += 1;
    card.removeAttribute("data-top");
    card.classList.add("leaving", `leaving-${kind}`);
    card.style.transform = "";
    setTimeout(() => card.remove(), 250);
    bridge.haptic(kind);
    queue.add(postId, kind);
    if (state.mode === "training" && state.done >= Math.min(MIN_RATINGS, state.total)) state.canFinish = true;
    render();
  }

  /** A rating made in the chat meanwhile stayed (the server kept it): say so, as the chat does. */
  function showKept(kind) {
    const note = $("note");
    note.textContent = t("kept_rating", { rating: { like: "👍", dislike: "👎", skip: "⏩" }[kind] || kind });
    note.hidden = false;
    clearTimeout(showKept.timer);
    showKept.timer = setTimeout(() => { note.hidden = true; }, 8000);
  }

  // rendering ----------------------------------------------------------------------------

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function cardElement(post) {
    const card = element("article", "card");
    card.dataset.postId = String(post.id);
    const head = element("header", "card-head");
    head.append(element("span", "channel", post.channel_title || ""));
    const media = post.media_type || "text";
    if (media !== "text") {
      const badge = element("span", "badge", t(`media_${media}`));
      badge.dataset.media = media;
      head.append(badge);
    }
    const text = element("div", "text");
    text.append(...formatted(post, (url) => bridge.openLink(url)));
    card.append(head, text);
    const foot = element("footer", "card-foot");
    if (post.posted_at) {
      const when = element("time", "date", new Date(post.posted_at).toLocaleDateString(document.documentElement.lang));
      when.dateTime = post.posted_at;
      foot.append(when);
    }
    if (post.url) {
      const link = element("a", "link", t("open_post"));
      link.href = post.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.addEventListener("click", (event) => { if (bridge.openLink(post.url)) event.preventDefault(); });
      foot.append(link);
    }
    if (state.mode === "feed") {
      const why = element("button", "why-button", t("why"));
      why.type = "button";
      why.addEventListener("click", () => explainCard(card, post.id));
      foot.append(why);
    }
    card.append(foot);
    return card;
  }

  /** The model's reasons for a feed card (`GET explain`), shown under it as plain text. */
  async function explainCard(card, postId) {
    let box = card.querySelector(".why");
    if (!box) { box = element("div", "why"); card.append(box); }
    box.replaceChildren(element("div", "", t("loading")));
    let lines;
    try {
      lines = reasonLines(await api.call("GET", `explain?post_id=${encodeURIComponent(postId)}`));
    } catch (error) {
      lines = [t("why_failed")];
    }
    box.replaceChildren(...lines.map((line) => element("div", "", line)));
  }

  function reasonLines(found) {
    const quoted = new Set();
    const lines = [];
    for (const reason of found.reasons || []) {
      const fresh = (reason.posts || []).find((post) => !quoted.has(post.id));
      if (fresh) quoted.add(fresh.id);
      const values = { word: reason.detail, channel: reason.detail, quote: fresh && fresh.quote };
      const key = {
        must: "why_must", explore: "why_explore", peers: "why_peers", channel: "why_channel", dial: "why_dial",
        liked: fresh ? "why_liked" : "why_liked_plain", text: fresh ? "why_text" : "why_text_plain",
      }[reason.kind];
      if (key) lines.push(t(key, values));
    }
    return lines.length ? [t("why_title"), ...lines] : [t("why_nothing")];
  }

  function render() {
    for (const card of deckEl.querySelectorAll(".card:not(.leaving)")) card.remove();
    const shown = state.cards.slice(state.index, state.index + VISIBLE);
    shown.reverse().forEach((post, position) => {
      const card = cardElement(post);
      const depth = shown.length - 1 - position;
      card.style.setProperty("--depth", String(depth));
      if (depth === 0) { card.dataset.top = "true"; swipeable(card); }
      deckEl.append(card);
    });
    if (!root.dataset.state.match(/auth-error|no-launch|^error$/)) {
      root.dataset.state = shown.length ? "ready" : "empty";
    }
    renderChrome();
  }

  function renderChrome() {
    const failed = /auth-error|no-launch|^error$/.test(root.dataset.state) || state.queue.authFailed;
    if (state.queue.authFailed && root.dataset.state !== "auth-error") fail("auth-error", t("auth_failed"));
    const hasCard = Boolean(topCard());
    for (const button of root.querySelectorAll("[data-action]")) button.disabled = failed || !hasCard;
    for (const tab of root.querySelectorAll("[data-mode]")) {
      tab.setAttribute("aria-selected", String(tab.dataset.mode === state.mode));
    }
    const total = Math.max(state.total, state.done);
    $("progress-label").textContent = t("progress", { done: state.done, total });
    const skipped = state.mode === "training" ? state.skipped.count : 0;
    $("skipped").hidden = !skipped;
    $("skipped").textContent = skipped ? tn("skipped", skipped, { channels: state.skipped.channels.join(", ") }) : "";
    $("progress-bar").style.width = total ? `${Math.round((100 * state.done) / total)}%` : "0%";

    const offline = state.queue.offline || state.fromCache;
    root.dataset.offline = String(offline);
    $("offline").hidden = !offline;
    $("offline").textContent = tn("offline", state.queue.pending);

    const empty = root.dataset.state === "empty";
    $("empty").hidden = !empty;
    const button = $("empty-button");
    let action = null;
    if (empty && state.mode === "training" && (state.total > 0 || state.finished)) {
      $("empty-text").textContent = t("training_done");
      action = { text: t("show_feed"), run: () => switchMode("feed") };
    } else if (empty) {
      $("empty-text").textContent = t(state.mode === "training" ? "training_empty" : "feed_empty");
      action = { text: t("reload"), run: () => loadDeck(state.mode) };
    }
    button.hidden = !action;
    if (action) { button.textContent = action.text; button.onclick = action.run; }
    bridge.mainButton(action && state.mode === "training" && state.total > 0 ? action.text : "", action ? action.run : null);
    const finishable = state.mode === "training" && state.canFinish && !state.finished && !failed && hasCard;
    $("finish").hidden = !finishable;
    bridge.backButton(state.mode === "feed" && !failed ? () => switchMode("training") : null);
  }

  function switchMode(mode) {
    if (mode === state.mode && root.dataset.state !== "empty") return;
    loadDeck(mode);
  }

  // swiping ------------------------------------------------------------------------------

  function swipeable(card) {
    let startX = null;
    let dx = 0;
    const threshold = () => Math.min(120, card.offsetWidth * 0.25);
    card.addEventListener("pointerdown", (event) => {
      if (event.target.closest("a, .spoiler, button")) return;  // a tap on them is theirs, not a swipe
      startX = event.clientX;
      dx = 0;
      card.setPointerCapture(event.pointerId);
      card.classList.add("dragging");
    });
    card.addEventListener("pointermove", (event) => {
      if (startX === null) return;
      dx = event.clientX - startX;
      card.style.transform = `translateX(${dx}px) rotate(${dx / 20}deg)`;
      card.dataset.hint = dx > threshold() / 2 ? "like" : dx < -threshold() / 2 ? "dislike" : "";
    });
    const end = () => {
      if (startX === null) return;
      startX = null;
      card.classList.remove("dragging");
      card.dataset.hint = "";
      if (dx > threshold()) rate("like");
      else if (dx < -threshold()) rate("dislike");
      else card.style.transform = "";
    };
    card.addEventListener("pointerup", end);
    card.addEventListener("pointercancel", () => { dx = 0; end(); });
  }

  // controls -----------------------------------------------------------------------------

  for (const button of root.querySelectorAll("[data-action]")) {
    button.addEventListener("click", () => rate(button.dataset.action));
  }
  for (const tab of root.querySelectorAll("[data-mode]")) {
    tab.addEventListener("click", () => switchMode(tab.dataset.mode));
  }
  $("finish").addEventListener("click", finishNow);
  // Back from the chat: ratings made there are skipped here (the deck is read again).
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && start.initData && !queue.pendingIds().size
        && /ready|empty/.test(root.dataset.state)) loadDeck(state.mode);
  });
  document.addEventListener("keydown", (event) => {
    const kind = { ArrowRight: "like", ArrowLeft: "dislike", ArrowDown: "skip" }[event.key];
    if (kind) rate(kind);
  });

  boot();
})();
