/* The settings tab: the person's delivery rules, must-see words and a dial per channel, read
   from and saved to /miniapp/rules (a dial is sent only when it was changed).
   A place typed as the time zone (a city, a country) is looked up first (/miniapp/timezones);
   the device's own zone is offered. Whatever cannot be saved is said in the person's
   language, naming what to type; the server's own words are for programs. */
"use strict";
(function () {
  const { t, launch, Api, Offline, AuthError } = window.PPB;
  const root = document.getElementById("app");
  const form = root.querySelector('[data-role="settings"]');
  const status = root.querySelector('[data-role="settings-status"]');
  const tab = root.querySelector('[data-view="settings"]');
  const deviceButton = root.querySelector('[data-role="zone-device"]');
  const choices = root.querySelector('[data-role="zone-choices"]');
  const dials = root.querySelector('[data-role="dials"]');
  const DIALS = ["normal", "more", "less", "never"];
  const start = launch();
  const api = new Api(start.initData);
  const FIELDS = ["digest_time", "timezone", "quiet_start", "quiet_end", "mute_words", "must_words", "channel_dials"];
  let saved = null;

  function deviceZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || null; } catch (_) { return null; }
  }

  function say(key, values, error) {
    status.textContent = key ? t(key, values) : "";
    status.classList.toggle("error", Boolean(error));
  }

  function offerDeviceZone() {
    const zone = deviceZone();
    deviceButton.hidden = !zone || zone === form.timezone.value.trim();
    if (zone) deviceButton.textContent = t("set_zone_device", { zone });
  }

  function show(rules) {
    saved = rules;
    form.delivery.value = rules.delivery;
    form.digest.value = rules.digest;
    form.digest_time.value = rules.digest_time;
    form.timezone.value = rules.timezone;
    form.quiet.checked = Boolean(rules.quiet_start);
    form.quiet_start.value = rules.quiet_start || "23:00";
    form.quiet_end.value = rules.quiet_end || "08:00";
    form.mute_words.value = rules.mute_words.join(", ");
    form.must_words.value = rules.must_words.join(", ");
    form.hide_ads.checked = rules.hide_ads;
    showDials(rules.channel_dials);
    choices.replaceChildren();
    offerDeviceZone();
  }

  /** One labelled choice of dial per channel (its title; the channel's name is the key sent). */
  function showDials(channels) {
    dials.replaceChildren(dials.querySelector("legend"));
    dials.hidden = !channels.length;
    for (const channel of channels) {
      const label = document.createElement("label");
      const title = document.createElement("span");
      title.textContent = channel.title;
      const select = document.createElement("select");
      select.dataset.channel = channel.channel;
      for (const dial of DIALS) {
        const option = document.createElement("option");
        option.value = dial;
        option.textContent = t("dial_" + dial);
        select.append(option);
      }
      select.value = channel.dial;
      label.append(title, " ", select);
      dials.append(label);
    }
  }

  /** The dials changed since the rules were shown, by channel. */
  function changedDials() {
    const was = Object.fromEntries((saved ? saved.channel_dials : []).map((d) => [d.channel, d.dial]));
    const changed = {};
    for (const select of dials.querySelectorAll("select[data-channel]")) {
      if (select.value !== was[select.dataset.channel]) changed[select.dataset.channel] = select.value;
    }
    return changed;
  }

  const clock = (value) => (value || "").slice(0, 5);  // HH:MM, whatever seconds a picker adds
  const words = (text) => text.split(",").map((word) => word.trim()).filter(Boolean);

  function read(timezone) {
    const quiet = form.quiet.checked;
    return {
      delivery: form.delivery.value,
      digest: form.digest.value,
      digest_time: clock(form.digest_time.value),
      timezone,
      quiet_start: quiet ? clock(form.quiet_start.value) : null,
      quiet_end: quiet ? clock(form.quiet_end.value) : null,
      mute_words: words(form.mute_words.value),
      must_words: words(form.must_words.value),
      hide_ads: form.hide_ads.checked,
      channel_dials: changedDials(),
    };
  }

  /** What the form is missing before anything is sent: a sentence key, or null. */
  function missing() {
    if (!clock(form.digest_time.value)) return "set_bad_digest_time";
    if (form.quiet.checked && (!clock(form.quiet_start.value) || !clock(form.quiet_end.value))) return "set_bad_quiet";
    if (!form.timezone.value.trim()) return "set_bad_timezone";
    return null;
  }

  /** The IANA zone the typed place names; null after saying why there is none (or several). */
  async function zoneOf(place) {
    if (saved && place === saved.timezone) return place;
    const found = await api.call("GET", "timezones?q=" + encodeURIComponent(place));
    if (found.zones.length === 1) return found.zones[0].zone;
    choices.replaceChildren();
    if (!found.zones.length) {
      say("set_zone_unknown", { place }, true);
      return null;
    }
    for (const zone of found.zones) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `${zone.city} (${zone.zone})`;
      button.addEventListener("click", () => { form.timezone.value = zone.zone; choices.replaceChildren(); save(); });
      choices.append(button);
    }
    say("set_zone_several", { place }, true);
    return null;
  }

  /** The field a refusal names ("quiet_start: …; quiet_end: …" names quiet_start first). */
  function refusedField(detail) {
    const named = String(detail || "").match(/(?:^|;\s*)([a-z_]+)(?:\[\d+\]|\.[^:;]*)?:/);
    const field = named && FIELDS.includes(named[1]) ? named[1] : null;
    return field === "quiet_start" || field === "quiet_end" ? "quiet" : field;
  }

  function failed(error) {
    if (error instanceof Offline) return say("set_failed_offline", null, true);
    if (error instanceof AuthError) return say("auth_failed", null, true);
    const field = refusedField(error.message);
    say(field ? "set_bad_" + field : "set_failed", null, true);
  }

  async function save() {
    say(null);
    const gap = missing();
    if (gap) return say(gap, null, true);
    try {
      const zone = await zoneOf(form.timezone.value.trim());
      if (!zone) return;
      show(await api.call("PATCH", "rules", read(zone)));
      say("set_saved");
    } catch (error) {
      failed(error);
    }
  }

  async function open() {
    root.dataset.view = "settings";
    form.hidden = false;
    for (const other of root.querySelectorAll("[role=tab]")) other.setAttribute("aria-selected", String(other === tab));
    say("loading");
    try {
      show(await api.call("GET", "rules"));
      say(null);
    } catch (error) {
      say(error instanceof Offline ? "set_load_offline" : "set_load_failed", null, true);
    }
  }

  function close() {
    delete root.dataset.view;
    form.hidden = true;
  }

  tab.addEventListener("click", open);
  for (const other of root.querySelectorAll("[data-mode]")) other.addEventListener("click", close);
  form.timezone.addEventListener("input", offerDeviceZone);
  deviceButton.addEventListener("click", () => {
    form.timezone.value = deviceZone();
    choices.replaceChildren();
    offerDeviceZone();
    say(null);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
})();
