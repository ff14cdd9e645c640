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
    showReasons(data.reasons);
    root.dataset.overview = "loaded";
  };

  // why this post: the reasons explanations led with, and what was liked after asking -------

  const REASONS = {
    text: "Written like posts they liked",
    liked: "Like a post they liked",
    peers: "People who like what they like liked it",
    channel: "The channel's record with them",
    explore: "A topic they have not rated yet (exploration)",
    dial: "Their dial on the channel",
    must: "A must-see word of theirs",
    none: "Nothing stood out",
  };
  const reasonName = (kind) => REASONS[kind] || kind;
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  function rateCell(r) {
    return r.feed_ratings ? `${pct(r.like_rate)} (95% CI ${pct(r.ci_low)}–${pct(r.ci_high)})` : "no ratings yet";
  }

  function showReasons(reasons) {
    const span = `the last ${plural(reasons.days, "day", "days")}`;
    $('[data-role="reasons-title"]').textContent = `Why this post: the reasons given in ${span}`;
    const summary = $('[data-role="reasons-summary"]'), leads = $('[data-role="reasons-table"]');
    const explainedSummary = $('[data-role="explained-summary"]'), explainedTable = $('[data-role="explained-table"]');
    root.dataset.reasons = String(reasons.explanations);
    if (!reasons.explanations) {
      summary.textContent = `Nobody asked why about a post in ${span}.`;
      explainedSummary.textContent = "Nothing to compare until someone asks why about a post and then rates it.";
      leads.hidden = explainedTable.hidden = true;
      return;
    }
    const s = reasons.surfaces;
    summary.textContent = `${plural(reasons.explanations, "explanation", "explanations")} given to ${plural(reasons.people, "person", "people")}: ` +
      `${s.chat} in the chat, ${s.miniapp} in the Mini App, ${s.api} over the API. Each counts once, under the reason it named first.`;
    leads.hidden = false;
    table(leads, [
      ["reason named first", (r) => reasonName(r.kind)], ["explanations", (r) => r.count], ["share", (r) => pct(r.share)],
    ], reasons.leads);
    const explained = reasons.explained, rest = reasons.rest;
    if (!explained.feed_ratings) {
      explainedSummary.textContent = "None of the posts people asked about has been rated since they asked.";
    } else if (!rest.feed_ratings) {
      explainedSummary.textContent = "The people who asked why have rated no other feed posts to compare with.";
    } else {
      const verdict = explained.like_rate > rest.like_rate ? "more" : explained.like_rate < rest.like_rate ? "less" : "as";
      const overlap = explained.ci_low <= rest.ci_high && rest.ci_low <= explained.ci_high;
      explainedSummary.textContent = `Posts rated after asking why were liked ${verdict === "as" ? "as often as" : `${verdict} often than`} ` +
        `the rest of the same people's feed posts: ${pct(explained.like_rate)} against ${pct(rest.like_rate)}` +
        (overlap ? " (the 95% intervals overlap: not a clear difference yet)." : ".");
    }
    explainedTable.hidden = false;
    table(explainedTable, [
      ["feed posts rated", (r) => r.label], ["ratings", (r) => r.feed_ratings], ["likes", (r) => r.feed_likes], ["like rate", rateCell],
    ], [
      { label: "after asking why about them", ...explained },
      { label: "the rest, by the same people", ...rest },
      ...reasons.by_lead.map((r) => ({ ...r, label: `after asking, led by: ${reasonName(r.kind)}` })),
    ]);
  }

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

  // A change, then what shows its result; an error from an earlier try leaves the screen once one succeeds.
  async function act(promise, after) {
    try { await promise; clearError(); await after(); } catch (error) { fail(error); }
  }

  // Blocking asks first, with the reason the log and this page keep.
  function blockForm(telegramId, done) {
    const form = el("form", { class: "confirm", dataset: { role: "block-form" } },
      el("label", {}, "Why block this person? (kept in the log and shown here)",
        el("input", { type: "text", name: "reason", required: true, maxlength: 256, placeholder: "e.g. spam in ratings, at their request" })),
      el("div", { class: "actions" },
        el("button", { type: "submit", class: "danger", dataset: { action: "confirm-block" } }, "Block"),
        el("button", { type: "button", dataset: { action: "cancel-block" }, onclick: () => form.remove() }, "Cancel")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(api.post(`/users/${telegramId}/block`, { reason: form.reason.value.trim() }), done);
    });
    return form;
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
    // Only nodes: replaceChildren would show a left-out part (null) as the text "null".
    box.replaceChildren(...[
      el("h2", {}, [u.first_name, u.last_name].filter(Boolean).join(" ") || `user ${u.telegram_id}`),
      el("p", { dataset: { role: "user-line" } },
        `telegram id ${u.telegram_id} · ${u.username ? "@" + u.username : "no username"} · status ${u.status}` +
        ` · language ${u.language || "their Telegram's"}` +
        (data.assignments.length ? ` · variant ${data.assignments.map((a) => a.variant).join(", ")}` : "")),
      data.blocked ? el("p", { class: "blocked", dataset: { role: "blocked" } },
        `Blocked by ${data.blocked.blocked_by} on ${when(data.blocked.created_at)}: ${data.blocked.reason || "no reason given"}`) : null,
      el("div", { class: "actions" },
        data.blocked
          ? el("button", { type: "button", dataset: { action: "unblock" }, onclick: () => {
            if (confirm("Unblock this person? Their feed and nudges resume.")) act(api.post(`/users/${telegramId}/unblock`), refresh);
          } }, "Unblock")
          : el("button", { type: "button", dataset: { action: "block" }, onclick: (event) => {
            const actions = event.target.closest(".actions");
            if (!actions.nextElementSibling || actions.nextElementSibling.dataset.role !== "block-form") {
              const form = blockForm(telegramId, refresh);
              actions.after(form);
              form.reason.focus();
            }
          } }, "Block…"),
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
    ].filter(Boolean));
    box.hidden = false;
    box.dataset.user = String(telegramId);
  }

  loaders.users = searchUsers;
  $('[data-role="user-search"]').addEventListener("submit", (event) => { event.preventDefault(); searchUsers().catch(fail); });

  // channels -----------------------------------------------------------------------------

  // A DEFAULT_CHANNELS channel is default by the setting (the console cannot change it);
  // one the console marked can be unmarked; any other can be made default.
  function defaultCell(c, name) {
    const mark = (isDefault) => act(api.post(`/channels/${encodeURIComponent(name)}/default`, { is_default: isDefault }), searchChannels);
    if (c.default_by === "setting") return el("span", { title: "DEFAULT_CHANNELS names it: change that setting to drop it", dataset: { default: "setting" } }, "default (DEFAULT_CHANNELS)");
    if (c.default_by === "mark") {
      return el("span", { dataset: { default: "mark" } }, "default ✓ ",
        el("button", { type: "button", dataset: { action: "undefault" }, onclick: () => mark(false) }, "Unmark"));
    }
    return el("button", { type: "button", dataset: { action: "default" }, onclick: () => mark(true) }, "Make default");
  }

  async function searchChannels() {
    const form = $('[data-role="channel-search"]');
    const { channels } = await api.get("/analytics/channels", form.search.value ? { search: form.search.value } : { limit: 200 });
    const name = (c) => (c.username ? `@${c.username}` : String(c.telegram_id));
    table($('[data-role="channels-table"]'), [
      ["channel", (c) => c.title], ["username", (c) => (c.username ? `@${c.username}` : "–")], ["followers", (c) => c.followers],
      ["posts", (c) => c.posts], ["ratings", (c) => c.ratings], ["like rate", (c) => pct(c.like_rate)],
      ["default", (c) => defaultCell(c, name(c))],
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

  // The new-experiment form: a fieldset per variant, a field per ranking setting the API
  // knows (GET /experiments/settings); a field left empty keeps the default model's value.
  let known = null;

  function variantFieldset(index, name) {
    const fields = known.map((s) => el("label", { class: "setting", title: s.description },
      `${s.name} (${s.exclusive_minimum ? ">" : ""}${s.minimum}–${s.maximum})`,
      el("input", { type: "number", name: s.name, step: "any", min: s.minimum, max: s.maximum, placeholder: `default ${s.default}` }),
      el("small", {}, s.description)));
    const box = el("fieldset", { class: "variant", dataset: { variant: String(index) } },
      el("legend", {}, index === 0 ? "Control (the first variant)" : `Variant ${index + 1}`),
      el("div", { class: "row" },
        el("label", {}, "Name", el("input", { type: "text", name: "variant_name", required: true, maxlength: 64, value: name })),
        el("label", {}, "Weight (share of traffic)", el("input", { type: "number", name: "weight", required: true, min: 0.001, max: 1000, step: "any", value: 1 }))),
      el("div", { class: "settings-grid" }, fields),
      index >= 2 ? el("button", { type: "button", dataset: { action: "remove-variant" }, onclick: () => box.remove() }, "Remove this variant") : null);
    return box;
  }

  function readVariants() {
    return [...document.querySelectorAll('[data-role="variants"] fieldset.variant')].map((box) => {
      const settings = {};
      for (const s of known) {
        const raw = box.querySelector(`input[name="${s.name}"]`).value;
        if (raw !== "") settings[s.name] = Number(raw);
      }
      return { name: box.querySelector('input[name="variant_name"]').value, weight: Number(box.querySelector('input[name="weight"]').value), settings };
    });
  }

  async function prepareExperimentForm() {
    if (known) return;
    known = (await api.get("/experiments/settings")).settings;
    $('[data-role="variants"]').replaceChildren(variantFieldset(0, "control"), variantFieldset(1, "variant-b"));
  }

  loaders.experiments = async () => { await prepareExperimentForm(); await loadExperiments(); };
  $('[data-action="add-variant"]').addEventListener("click", () => {
    const boxes = document.querySelectorAll('[data-role="variants"] fieldset.variant');
    if (boxes.length < 10) $('[data-role="variants"]').append(variantFieldset(boxes.length, `variant-${String.fromCharCode(97 + boxes.length)}`));
  });
  $('[data-role="experiment-form"]').addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    await act(api.post("/experiments", { name: form.name.value, variants: readVariants(), start: form.start.checked }), loadExperiments);
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
