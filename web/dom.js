// Building elements. Everything the server or a user supplies becomes a text node, never HTML.

import { formatTime } from "./format.js";

/** Builds an element; string children become text nodes (never parsed as HTML). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function timeElement(iso) {
  const when = formatTime(iso);
  return h(
    "time",
    { className: "msg-time", "data-testid": "message-time", datetime: when.datetime, title: when.title },
    when.text,
  );
}
