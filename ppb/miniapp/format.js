/* A post's formatting on a card. The server sends the post as Telegram HTML written by PPB's
   renderer; it is parsed into an inert document (no script runs, nothing loads) and rebuilt
   node by node: only the tags below, no attribute but a checked link, every piece of text a
   text node. Any other element shows as its text (a script's or a style's not at all). A post without HTML is its plain text. */
"use strict";
(function () {
  const TAGS = { B: "b", I: "i", U: "u", S: "s", CODE: "code", PRE: "pre", BLOCKQUOTE: "blockquote", "TG-SPOILER": "span", A: "a" };
  const DROPPED = new Set(["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT"]);  // code, not text
  const SAFE_LINK = /^(https?|tg):/i;
  const LANGUAGE = /^language-[A-Za-z0-9][A-Za-z0-9_+#.-]{0,31}$/;

  function rebuild(source, openLink) {
    const made = [];
    for (const child of source.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        made.push(document.createTextNode(child.data));
        continue;
      }
      if (child.nodeType !== Node.ELEMENT_NODE || DROPPED.has(child.tagName)) continue;
      const tag = TAGS[child.tagName];
      if (!tag) {  // not ours: its text only
        made.push(...rebuild(child, openLink));
        continue;
      }
      const node = document.createElement(tag);
      if (child.tagName === "TG-SPOILER") {
        node.className = "spoiler";
        node.addEventListener("click", () => node.classList.add("shown"));
      } else if (tag === "a") {
        const href = child.getAttribute("href") || "";
        if (SAFE_LINK.test(href)) {
          node.href = href;
          node.target = "_blank";
          node.rel = "noopener noreferrer";
          node.addEventListener("click", (event) => { if (openLink(href)) event.preventDefault(); });
        }
      } else if (tag === "code" && LANGUAGE.test(child.className)) {
        node.className = child.className;
      } else if (tag === "blockquote" && child.hasAttribute("expandable")) {
        node.className = "expandable";
      }
      node.append(...rebuild(child, openLink));
      made.push(node);
    }
    return made;
  }

  /** The nodes that show `post` with its formatting. */
  function formatted(post, openLink) {
    if (!post.html) return [document.createTextNode(post.text || "")];
    const inert = new DOMParser().parseFromString(`<!doctype html><body>${post.html}</body>`, "text/html");
    return rebuild(inert.body, openLink || (() => false));
  }

  window.PPB = Object.assign(window.PPB || {}, { formatted });
})();
