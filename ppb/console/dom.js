// Building the page from data: every piece of text goes in as a text node, never as HTML.
"use strict";

window.dom = (() => {
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // A table of rows: columns are [heading, row => text or Node]; `onRow` makes rows clickable.
  function table(target, columns, rows, onRow) {
    target.replaceChildren(
      el("thead", {}, el("tr", {}, columns.map(([heading]) => el("th", {}, heading)))),
      el("tbody", {}, rows.length ? rows.map((row) => el("tr",
        onRow ? { class: "clickable", onclick: () => onRow(row) } : {},
        columns.map(([, cell]) => el("td", {}, cell(row))))) :
        el("tr", {}, el("td", { colspan: columns.length, class: "none" }, "nothing here"))),
    );
  }

  const pct = (value) => (value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)}%`);
  const when = (value) => (value ? new Date(value).toISOString().replace("T", " ").slice(0, 16) : "–");
  return { el, table, pct, when };
})();
