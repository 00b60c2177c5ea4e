// node --test: text the conversation shows (web/format.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { excerpt, formatTime, recipientsLine } from "../../web/format.js";

test("excerpts are one line, cut with an ellipsis", () => {
  assert.equal(excerpt("a\n  b\tc"), "a b c");
  assert.equal(excerpt("x".repeat(100), 10), `${"x".repeat(9)}…`);
});

test("times: a machine-readable datetime, and the raw text when the server's time is unreadable", () => {
  assert.equal(formatTime("2026-11-29T10:00:00.000Z").datetime, "2026-11-29T10:00:00.000Z");
  assert.deepEqual(formatTime("soon"), { text: "soon", datetime: null, title: "" });
});

test("recipients are told from the reader's point of view", () => {
  assert.equal(recipientsLine(["me", "b"], "me", false), "to you and b");
  assert.equal(recipientsLine(["me"], "me", false), "to you");
  assert.equal(recipientsLine(["b", "c"], "me", false), "to b, c");
  assert.equal(recipientsLine(["b"], "me", true), "to b");
});
