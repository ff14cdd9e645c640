/* Launch parameters and the Telegram bridge.
   Inside Telegram, telegram-web-app.js (window.Telegram.WebApp) gives initData, the theme,
   MainButton, BackButton and haptics. Without it (a browser, the sandbox, no network) the
   parameters are read from the URL fragment, as Telegram's script reads them. */
"use strict";
(function () {
  const TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js";
  // Telegram's own clients; the sandbox and a browser say "unknown" (or anything else) and stay offline.
  const TELEGRAM_PLATFORMS = ["android", "ios", "tdesktop", "macos", "weba", "webk", "unigram"];
  const STORED = "ppb:launch";

  function fragmentParams() {
    const hash = window.location.hash.replace(/^#/, "");
    const params = new URLSearchParams(hash);
    if (params.has("tgWebAppData")) {
      try { sessionStorage.setItem(STORED, hash); } catch (_) { /* private mode */ }
      return params;
    }
    try { return new URLSearchParams(sessionStorage.getItem(STORED) || ""); } catch (_) { return params; }
  }

  function parseJson(text) {
    try { return text ? JSON.parse(text) : null; } catch (_) { return null; }
  }

  function webApp() {
    const app = window.Telegram && window.Telegram.WebApp;
    return app && typeof app === "object" ? app : null;
  }

  const params = fragmentParams();

  /** initData, the (unverified) user it names and the theme, from Telegram or the fragment. */
  function launch() {
    const app = webApp();
    const initData = (app && app.initData) || params.get("tgWebAppData") || "";
    const fields = new URLSearchParams(initData);
    return {
      initData,
      user: parseJson(fields.get("user")),
      theme: (app && app.themeParams && Object.keys(app.themeParams).length ? app.themeParams : null)
        || parseJson(params.get("tgWebAppThemeParams")) || {},
      platform: (app && app.platform) || params.get("tgWebAppPlatform") || "unknown",
      telegram: Boolean(app),
    };
  }

  /** Load Telegram's script only inside a Telegram client; never wait for it. */
  function loadTelegramScript(onLoad) {
    const platform = params.get("tgWebAppPlatform") || "unknown";
    if (webApp() || !TELEGRAM_PLATFORMS.includes(platform)) return;
    const script = document.createElement("script");
    script.src = TELEGRAM_SCRIPT;
    script.async = true;
    script.onload = () => { if (webApp()) onLoad(webApp()); };
    script.onerror = () => script.remove();  // offline: the fragment is enough
    document.head.appendChild(script);
  }

  const THEME_VARIABLES = {
    bg_color: "--bg", text_color: "--text", hint_color: "--hint", link_color: "--link",
    button_color: "--button", button_text_color: "--button-text", secondary_bg_color: "--card",
    destructive_text_color: "--danger",
  };

  function applyTheme(theme) {
    const root = document.documentElement.style;
    for (const [key, variable] of Object.entries(THEME_VARIABLES)) {
      if (typeof theme[key] === "string" && /^#[0-9a-fA-F]{3,8}$/.test(theme[key])) {
        root.setProperty(variable, theme[key]);
      }
    }
  }

  /** Telegram's controls when present; silent no-ops in a plain browser. */
  const bridge = {
    ready() {
      const app = webApp();
      if (!app) return;
      try { app.ready(); app.expand(); } catch (_) { /* old clients */ }
      if (app.onEvent) app.onEvent("themeChanged", () => applyTheme(app.themeParams || {}));
    },
    haptic(kind) {
      const haptic = webApp() && webApp().HapticFeedback;
      if (!haptic) return;
      try {
        if (kind === "like" || kind === "dislike") haptic.impactOccurred(kind === "like" ? "medium" : "light");
        else if (kind === "skip") haptic.selectionChanged();
        else haptic.notificationOccurred(kind);
      } catch (_) { /* unsupported in this client version */ }
    },
    mainButton(text, onClick) {
      const button = webApp() && webApp().MainButton;
      if (!button) return false;
      if (bridge._main) button.offClick(bridge._main);
      bridge._main = null;
      if (!text) { button.hide(); return true; }
      bridge._main = onClick;
      button.setText(text);
      button.onClick(onClick);
      button.show();
      return true;
    },
    backButton(onClick) {
      const button = webApp() && webApp().BackButton;
      if (!button) return false;
      if (bridge._back) button.offClick(bridge._back);
      bridge._back = null;
      if (!onClick) { button.hide(); return true; }
      bridge._back = onClick;
      button.onClick(onClick);
      button.show();
      return true;
    },
    openLink(url) {
      const app = webApp();
      if (app && app.openTelegramLink && /^https:\/\/t\.me\//.test(url)) { app.openTelegramLink(url); return true; }
      return false;
    },
    _main: null,
    _back: null,
  };

  window.PPB = Object.assign(window.PPB || {}, { launch, loadTelegramScript, applyTheme, bridge });
})();
