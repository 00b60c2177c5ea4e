// Copying a text to the clipboard: the Clipboard API where the page may use it, else a selection.

import { h } from "./dom.js";

/** Copies `text`; false when the browser let neither way work. `refocus` gets the focus back after
 * the selection fallback. */
export async function copyText(text, refocus) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // fall back to a selection
    }
  }
  return copyWithSelection(text, refocus);
}

/** Selects the text of `element`, for the user to copy by hand. */
export function selectContents(element) {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

function copyWithSelection(text, refocus) {
  const scratch = h("textarea", { readonly: true, "aria-hidden": "true", className: "offscreen", tabindex: "-1" });
  scratch.value = text;
  document.body.append(scratch);
  scratch.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  scratch.remove();
  refocus.focus();
  return copied;
}
