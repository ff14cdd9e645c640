// The admin API: the session cookie goes along by itself (same origin); changes carry the
// session's CSRF token, which lives only in this page's memory.
"use strict";

window.api = (() => {
  const BASE = "/api/v1/admin";
  let csrf = null;

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  async function call(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
    const response = await fetch(BASE + path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 204) return null;
    const data = await response.json().catch(() => ({ detail: response.statusText }));
    if (!response.ok) throw new ApiError(response.status, data.detail || `HTTP ${response.status}`);
    return data;
  }

  return {
    ApiError,
    async session() {
      const me = await call("GET", "/session");
      csrf = me.csrf_token;
      return me;
    },
    async login(apiKey, operator) {
      const me = await call("POST", "/session", { api_key: apiKey, operator });
      csrf = me.csrf_token;
      return me;
    },
    async logout() {
      await call("DELETE", "/session");
      csrf = null;
    },
    get: (path, params) => call("GET", params ? `${path}?${new URLSearchParams(params)}` : path),
    post: (path, body) => call("POST", path, body === undefined ? {} : body),
    del: (path) => call("DELETE", path),
  };
})();
