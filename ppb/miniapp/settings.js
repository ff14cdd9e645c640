/* The settings tab: the person's delivery rules, read from and saved to /miniapp/rules.
   The server checks every value; a refusal is shown as it names the field. */
"use strict";
(function () {
  const { t, launch, Api } = window.PPB;
  const root = document.getElementById("app");
  const form = root.querySelector('[data-role="settings"]');
  const status = root.querySelector('[data-role="settings-status"]');
  const tab = root.querySelector('[data-view="settings"]');
  const start = launch();
  const api = new Api(start.initData);

  function show(rules) {
    form.delivery.value = rules.delivery;
    form.digest.value = rules.digest;
    form.digest_time.value = rules.digest_time;
    form.timezone.value = rules.timezone;
    form.quiet.checked = Boolean(rules.quiet_start);
    form.quiet_start.value = rules.quiet_start || "23:00";
    form.quiet_end.value = rules.quiet_end || "08:00";
    form.mute_words.value = rules.mute_words.join(", ");
    form.hide_ads.checked = rules.hide_ads;
  }

  function read() {
    const quiet = form.quiet.checked;
    return {
      delivery: form.delivery.value,
      digest: form.digest.value,
      digest_time: form.digest_time.value,
      timezone: form.timezone.value.trim(),
      quiet_start: quiet ? form.quiet_start.value : null,
      quiet_end: quiet ? form.quiet_end.value : null,
      mute_words: form.mute_words.value.split(",").map((word) => word.trim()).filter(Boolean),
      hide_ads: form.hide_ads.checked,
    };
  }

  async function open() {
    root.dataset.view = "settings";
    form.hidden = false;
    for (const other of root.querySelectorAll("[role=tab]")) other.setAttribute("aria-selected", String(other === tab));
    status.textContent = t("loading");
    try {
      show(await api.call("GET", "rules"));
      status.textContent = "";
    } catch (error) {
      status.textContent = t("set_failed", { detail: error.message });
    }
  }

  function close() {
    delete root.dataset.view;
    form.hidden = true;
  }

  tab.addEventListener("click", open);
  for (const other of root.querySelectorAll("[data-mode]")) other.addEventListener("click", close);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    try {
      show(await api.call("PATCH", "rules", read()));
      status.textContent = t("set_saved");
    } catch (error) {
      status.textContent = t("set_failed", { detail: error.detail || error.message });
    }
  });
})();
