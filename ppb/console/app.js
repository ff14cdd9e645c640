// The operators' console: sign in, then tabs over the admin API. Unauthenticated, the page
// shows the sign-in form and nothing else (it holds no data of its own).
"use strict";

(() => {
  const { el, table, pct, when } = window.dom;
  const $ = (selector) => document.querySelector(selector);
  const root = $("#console");

  function fail(error) {
    if (error instanceof api.ApiError && error.status === 401) return showLogin();
    const box = $('[data-role="error"]');
    box.textContent = error.message || String(error);
    box.hidden = false;
  }

  function clearError() {
    $('[data-role="error"]').hidden = true;
  }

  // sign-in ------------------------------------------------------------------------------

  function showLogin(message) {
    $('[data-role="shell"]').hidden = true;
    $('[data-role="login"]').hidden = false;
    const error = $('[data-role="login-error"]');
    error.hidden = !message;
    error.textContent = message || "";
    root.dataset.state = "login";
  }

  async function showShell(me) {
    $('[data-role="login"]').hidden = true;
    $('[data-role="shell"]').hidden = false;
    $('[data-role="who"]').textContent = me.operator;
    root.dataset.state = "ready";
    await openTab("overview");
  }

  $('[data-role="login-form"]').addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      const me = await api.login(form.api_key.value, form.operator.value);
      form.api_key.value = "";
      await showShell(me);
    } catch (error) {
      showLogin(error.message);
    }
  });

  $('[data-role="logout"]').addEventListener("click", async () => {
    try { await api.logout(); } finally { showLogin(); }
  });

  // tabs ---------------------------------------------------------------------------------

  const loaders = {};

  async function openTab(name) {
    clearError();
    for (const button of document.querySelectorAll("[data-tab]")) button.setAttribute("aria-selected", String(button.dataset.tab === name));
    for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== name;
    root.dataset.tab = name;
    try { await loaders[name](); } catch (error) { fail(error); }
  }

  for (const button of document.querySelectorAll("[data-tab]")) button.addEventListener("click", () => openTab(button.dataset.tab));

  // overview -----------------------------------------------------------------------------

  function card(title, value, note) {
    return el("div", { class: "card" }, el("span", { class: "title" }, title), el("strong", {}, value), el("small", {}, note || ""));
  }

  loaders.overview = async () => {
    const data = await api.get("/analytics/overview", { days: 30 });
    const like = data.like_rate, training = data.training, nudges = data.nudges;
    $('[data-role="kpis"]').replaceChildren(
      card("Users", String(data.funnel.total_users), `${data.active_7_days} active in the last 7 days`),
      card(`Like rate of feed posts, ${data.days} days`, pct(like.like_rate), `95% CI ${pct(like.ci_low)}–${pct(like.ci_high)}, ${like.feed_ratings} ratings`),
      card("Training completed", pct(training.completion_rate), `${training.completed} of ${training.started}; avg ${training.avg_seconds ?? "–"} s`),
      card("Nudges that brought people back", pct(nudges.return_rate), `${nudges.returned_within_day} of ${nudges.sent} within a day`),
    );
    table($('[data-role="funnel-table"]'), [
      ["stage", (s) => s.stage], ["now", (s) => s.now], ["ever reached", (s) => s.reached], ["conversion", (s) => pct(s.conversion)],
    ], data.funnel.stages);
    charts.funnel(data.funnel.stages);
    charts.active(data.daily);
    charts.likes(data.daily);
    root.dataset.overview = "loaded";
  };

  // users --------------------------------------------------------------------------------

  async function searchUsers() {
    const form = $('[data-role="user-search"]');
    const params = { limit: 100 };
    if (form.search.value) params.search = form.search.value;
    if (form.status.value) params.status = form.status.value;
    const { users } = await api.get("/users", params);
    table($('[data-role="users-table"]'), [
      ["telegram id", (u) => u.telegram_id], ["username", (u) => (u.username ? `@${u.username}` : "–")],
      ["name", (u) => [u.first_name, u.last_name].filter(Boolean).join(" ")], ["status", (u) => u.status],
      ["ratings", (u) => u.ratings], ["blocked", (u) => (u.blocked ? "yes" : "")], ["last active", (u) => when(u.last_activity_at)],
    ], users, (u) => showUser(u.telegram_id).catch(fail));
    root.dataset.users = String(users.length);
  }

  async function act(promise, after) {
    try { await promise; await after(); } catch (error) { fail(error); }
  }

  async function showUser(telegramId) {
    const data = await api.get(`/users/${telegramId}`);
    const u = data.user;
    const box = $('[data-role="user-detail"]');
    const refresh = () => Promise.all([showUser(telegramId), searchUsers()]);
    const history = el("table"), ratings = el("table"), channels = el("table"), actions = el("table");
    table(history, [["when", (h) => when(h.created_at)], ["change", (h) => h.action], ["details", (h) => JSON.stringify(h.details || {})]], data.status_history);
    table(ratings, [["when", (r) => when(r.created_at)], ["rating", (r) => r.interaction_type], ["channel", (r) => r.channel_title], ["post", (r) => (r.text || "").slice(0, 120)]], data.ratings);
    table(channels, [["channel", (c) => c.title], ["username", (c) => (c.username ? `@${c.username}` : "–")], ["training", (c) => (c.is_for_training ? "yes" : "")], ["bonus", (c) => (c.is_bonus ? "yes" : "")]], data.channels);
    table(actions, [["when", (a) => when(a.created_at)], ["who", (a) => a.actor], ["action", (a) => a.action]], data.actions);
    box.replaceChildren(
      el("h2", {}, [u.first_name, u.last_name].filter(Boolean).join(" ") || `user ${u.telegram_id}`),
      el("p", {}, `telegram id ${u.telegram_id} · ${u.username ? "@" + u.username : "no username"} · status ${u.status}` +
        (data.blocked ? ` · blocked by ${data.blocked.blocked_by}` : "") +
        (data.assignments.length ? ` · variant ${data.assignments.map((a) => a.variant).join(", ")}` : "")),
      el("div", { class: "actions" },
        data.blocked
          ? el("button", { type: "button", dataset: { action: "unblock" }, onclick: () => act(api.post(`/users/${telegramId}/unblock`), refresh) }, "Unblock")
          : el("button", { type: "button", dataset: { action: "block" }, onclick: () => act(api.post(`/users/${telegramId}/block`, {}), refresh) }, "Block"),
        el("button", { type: "button", dataset: { action: "reset" }, onclick: () => {
          if (confirm("Forget this user's ratings and start their training again?")) act(api.post(`/users/${telegramId}/reset-training`), refresh);
        } }, "Reset training"),
        el("button", { type: "button", class: "danger", dataset: { action: "delete" }, onclick: () => {
          if (confirm("Erase this user from every table? This cannot be undone.")) act(api.del(`/users/${telegramId}`), async () => { box.hidden = true; await searchUsers(); });
        } }, "Delete"),
      ),
      el("h3", {}, "Status history"), history,
      el("h3", {}, `Ratings (${data.ratings.length})`), ratings,
      el("h3", {}, "Channels"), channels,
      el("h3", {}, "Admin actions"), actions,
    );
    box.hidden = false;
    box.dataset.user = String(telegramId);
  }

  loaders.users = searchUsers;
  $('[data-role="user-search"]').addEventListener("submit", (event) => { event.preventDefault(); searchUsers().catch(fail); });

  // channels -----------------------------------------------------------------------------

  async function searchChannels() {
    const form = $('[data-role="channel-search"]');
    const { channels } = await api.get("/analytics/channels", form.search.value ? { search: form.search.value } : { limit: 200 });
    const name = (c) => (c.username ? `@${c.username}` : String(c.telegram_id));
    table($('[data-role="channels-table"]'), [
      ["channel", (c) => c.title], ["username", (c) => (c.username ? `@${c.username}` : "–")], ["followers", (c) => c.followers],
      ["posts", (c) => c.posts], ["ratings", (c) => c.ratings], ["like rate", (c) => pct(c.like_rate)],
      ["default", (c) => el("button", { type: "button", dataset: { action: "default" }, onclick: () =>
        act(api.post(`/channels/${encodeURIComponent(name(c))}/default`, { is_default: !c.is_default }), searchChannels) },
        c.is_default ? "default ✓" : "make default")],
    ], channels);
    root.dataset.channels = String(channels.length);
  }

  loaders.channels = searchChannels;
  $('[data-role="channel-search"]').addEventListener("submit", (event) => { event.preventDefault(); searchChannels().catch(fail); });

  // experiments --------------------------------------------------------------------------

  function experimentView(e) {
    const results = el("table");
    table(results, [
      ["variant", (r) => r.variant + (r.control ? " (control)" : "")], ["users", (r) => r.users], ["feed ratings", (r) => r.ratings],
      ["like rate", (r) => pct(r.like_rate)], ["95% CI", (r) => `${pct(r.ci_low)}–${pct(r.ci_high)}`],
      ["vs control", (r) => (r.control ? "–" : `p = ${r.p_value}${r.significant ? " · significant" : " · not significant"}`)],
    ], e.results);
    const settings = e.variants.map((v) => `${v.name} (weight ${v.weight}): ${JSON.stringify(v.settings)}`).join("; ");
    const id = e.id;
    return el("article", { class: "experiment", dataset: { experiment: String(id), state: e.state } },
      el("h3", {}, `${e.name} — ${e.state}`),
      el("p", {}, `started ${when(e.started_at)} · stopped ${when(e.stopped_at)} · by ${e.created_by}`),
      el("p", { class: "settings" }, settings),
      results,
      e.state === "draft" ? el("button", { type: "button", onclick: () => act(api.post(`/experiments/${id}/start`), loadExperiments) }, "Start") : null,
      e.state === "running" ? el("button", { type: "button", onclick: () => act(api.post(`/experiments/${id}/stop`), loadExperiments) }, "Stop") : null,
    );
  }

  async function loadExperiments() {
    const { experiments } = await api.get("/experiments");
    const full = await Promise.all(experiments.slice(0, 20).map((e) => api.get(`/experiments/${e.id}`)));
    $('[data-role="experiments"]').replaceChildren(...(full.length ? full.map(experimentView) : [el("p", {}, "No experiments yet.")]));
    root.dataset.experiments = String(full.length);
  }

  loaders.experiments = loadExperiments;
  $('[data-role="experiment-form"]').addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    let variants;
    try { variants = JSON.parse(form.variants.value); } catch (error) { return fail(new Error(`variants: not JSON (${error.message})`)); }
    await act(api.post("/experiments", { name: form.name.value, variants, start: form.start.checked }), loadExperiments);
  });

  // log ----------------------------------------------------------------------------------

  loaders.log = async () => {
    const { actions } = await api.get("/actions", { limit: 200 });
    table($('[data-role="log-table"]'), [
      ["when", (a) => when(a.created_at)], ["who", (a) => a.actor], ["action", (a) => a.action],
      ["target", (a) => a.target || ""], ["details", (a) => JSON.stringify(a.details || {})],
    ], actions);
  };

  // start --------------------------------------------------------------------------------

  api.session().then(showShell, (error) => {
    if (error instanceof api.ApiError && (error.status === 401 || error.status === 403)) showLogin(error.status === 403 ? error.message : "");
    else showLogin(error.message);
  });
})();
