/* Talking to the PPB API as the initData's user, and a rating queue that survives going
   offline: ratings wait in localStorage and are sent in order once the API answers.
   Re-sending is harmless (the server keeps one rating per user and post). */
"use strict";
(function () {
  class Offline extends Error {}
  class AuthError extends Error {}
  class ApiError extends Error {
    constructor(status, detail) { super(detail); this.status = status; }
  }

  function apiBase() {
    const meta = document.querySelector('meta[name="ppb-api"]');
    const base = (meta && meta.content.trim()) || new URL("../api/v1/miniapp/", window.location.href).href;
    return base.endsWith("/") ? base : base + "/";
  }

  class Api {
    constructor(initData) {
      this.initData = initData;
      this.base = apiBase();
    }

    /** JSON of a call; throws Offline (no answer, a 5xx or 429), AuthError (401) or ApiError. */
    async call(method, path, body) {
      let response;
      try {
        response = await fetch(this.base + path, {
          method,
          headers: { Authorization: "tma " + this.initData, ...(body ? { "Content-Type": "application/json" } : {}) },
          body: body ? JSON.stringify(body) : undefined,
          cache: "no-store",
        });
      } catch (error) {
        throw new Offline(String(error));
      }
      let data = null;
      try { data = await response.json(); } catch (_) { /* not JSON: a proxy's page */ }
      if (response.ok) return data;
      const detail = (data && data.detail) || response.statusText || String(response.status);
      if (response.status === 401) throw new AuthError(detail);
      if (response.status >= 500 || response.status === 429) throw new Offline(detail);  // try again later
      throw new ApiError(response.status, detail);
    }
  }

  const RETRY_MS = [500, 1000, 2000, 4000];

  class RatingQueue {
    /** `onChange(state)` hears {pending, offline, authFailed, sent, answer} after every change:
        `sent` is the rating just sent, `answer` the server's answer to it (the stored rating,
        `kept` when one made in the chat meanwhile stayed, and the training's progress). */
    constructor(api, userKey, onChange) {
      this.api = api;
      this.key = "ppb:queue:" + userKey;
      this.onChange = onChange;
      this.offline = false;
      this.authFailed = false;
      this.attempt = 0;
      this.timer = null;
      this.running = null;
      window.addEventListener("online", () => this.flush());
    }

    items() {
      try { return JSON.parse(localStorage.getItem(this.key) || "[]"); } catch (_) { return []; }
    }

    save(items) {
      localStorage.setItem(this.key, JSON.stringify(items));
    }

    pendingIds() {
      return new Set(this.items().map((item) => item.post_id));
    }

    /** Keep the rating (the latest one per post wins), then try to send. */
    add(postId, kind) {
      const items = this.items().filter((item) => item.post_id !== postId);
      items.push({ post_id: postId, interaction_type: kind, queued_at: Date.now() });
      this.save(items);
      this.notify();
      return this.flush();
    }

    notify(sent, answer) {
      this.onChange({ pending: this.items().length, offline: this.offline, authFailed: this.authFailed, sent, answer });
    }

    /** Send what waits, oldest first; one run at a time. */
    flush() {
      if (this.running) { this.again = true; return this.running; }
      clearTimeout(this.timer);
      this.running = this.run().finally(() => {
        this.running = null;
        if (this.again) { this.again = false; this.flush(); }
      });
      return this.running;
    }

    async run() {
      for (;;) {
        const [item] = this.items();
        if (!item) { this.offline = false; this.attempt = 0; this.notify(); return; }
        let answer = null;  // the stored rating: `kept` when one made in the chat meanwhile stayed
        try {
          answer = await this.api.call("POST", "interactions", { post_id: item.post_id, interaction_type: item.interaction_type });
        } catch (error) {
          if (error instanceof Offline) { this.retryLater(); return; }
          if (error instanceof AuthError) { this.authFailed = true; this.notify(); return; }
          console.warn("PPB: rating dropped", item, error.message);  // 404/422: it can never succeed
        }
        this.save(this.items().filter((kept) => !(kept.post_id === item.post_id && kept.queued_at === item.queued_at)));
        this.offline = false;
        this.attempt = 0;
        this.notify({ ...item, answer }, answer);
      }
    }

    retryLater() {
      this.offline = true;
      this.notify();
      const delay = RETRY_MS[Math.min(this.attempt, RETRY_MS.length - 1)];
      this.attempt += 1;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.flush(), delay);
    }
  }

  window.PPB = Object.assign(window.PPB || {}, { Api, RatingQueue, Offline, AuthError, ApiError });
})();
