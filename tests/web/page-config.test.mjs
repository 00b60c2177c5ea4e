// node --test: the stage's settings the page reads from config.json (web/page-config.js; cdk/web_config.py writes it).
import assert from "node:assert/strict";
import { test } from "node:test";

import { loadPageConfig, parsePageConfig } from "../../web/page-config.js";

const STAGE_URL = "wss://abc123.execute-api.eu-west-1.amazonaws.com/prod";

test("config.json gives the stage's WebSocket URL and its sign-in, none by default", () => {
  assert.deepEqual(parsePageConfig({ websocket_url: STAGE_URL, auth: { type: "none" } }), {
    websocketUrl: STAGE_URL,
    auth: { type: "none" },
  });
  // The identity work adds Cognito's settings to auth; the page carries them as given.
  const cognito = { type: "cognito", region: "eu-west-1", user_pool_id: "p", client_id: "c", cognito_endpoint: "x" };
  assert.deepEqual(parsePageConfig({ websocket_url: STAGE_URL, auth: cognito }).auth, cognito);
});

test("a config without auth still works: no sign-in", () => {
  assert.deepEqual(parsePageConfig({ websocket_url: STAGE_URL }), { websocketUrl: STAGE_URL, auth: { type: "none" } });
});

test("anything that is not a config is ignored, so the page falls back to its own URL", () => {
  for (const document of [null, [], "wss://x", {}, { websocket_url: "https://x" }, { websocket_url: 7 }]) {
    assert.equal(parsePageConfig(document), null, JSON.stringify(document));
  }
});

test("config.json is fetched next to the page, unvalidated caches bypassed, and a missing one is no error", async () => {
  const asked = [];
  const serving = (status, body) => async (path, options) => {
    asked.push([path, options.cache]);
    return { ok: status === 200, json: async () => body };
  };

  assert.deepEqual(await loadPageConfig(serving(200, { websocket_url: STAGE_URL })), {
    websocketUrl: STAGE_URL,
    auth: { type: "none" },
  });
  assert.deepEqual(asked, [["config.json", "no-cache"]]);
  assert.equal(await loadPageConfig(serving(404, {})), null);
  assert.equal(await loadPageConfig(serving(200, "not a config")), null);
  assert.equal(await loadPageConfig(async () => { throw new TypeError("Failed to fetch"); }), null);
});
