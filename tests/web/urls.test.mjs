// node --test: where the browser client connects (web/urls.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { defaultSocketUrl, normalizeSocketUrl, pageLocationFor, withToken } from "../../web/urls.js";

const page = (search, protocol = "http:", host = "127.0.0.1:3001") => ({ search, protocol, host });

test("the page connects to the stage on its own host by default", () => {
  assert.equal(defaultSocketUrl(page("")), "ws://127.0.0.1:3001/dev");
  assert.equal(defaultSocketUrl(page("?stage=prod")), "ws://127.0.0.1:3001/prod");
  assert.equal(defaultSocketUrl(page("", "https:", "chat.example.com")), "wss://chat.example.com/dev");
});

test("?url= wins, and a page opened from disk falls back to make dev's address", () => {
  const explicit = "?url=wss%3A%2F%2Fabc.execute-api.eu-west-1.amazonaws.com%2Fdev";
  assert.equal(defaultSocketUrl(page(explicit)), "wss://abc.execute-api.eu-west-1.amazonaws.com/dev");
  assert.equal(defaultSocketUrl(page("", "file:", "")), "ws://127.0.0.1:3001/dev");
});

test("typed URLs: http(s) becomes ws(s), the fragment is dropped, others are explained", () => {
  assert.deepEqual(normalizeSocketUrl(" https://abc.example.com/dev#x "), { url: "wss://abc.example.com/dev" });
  assert.match(normalizeSocketUrl("").error, /Type a WebSocket URL/);
  assert.match(normalizeSocketUrl("not a url").error, /is not a URL/);
  assert.match(normalizeSocketUrl("ftp://example.com").error, /starts with ws:\/\/ or wss:\/\//);
});

test("the address bar keeps ?url= only when the page would not derive it", () => {
  assert.equal(pageLocationFor("http://127.0.0.1:3001/?connect=0", "ws://127.0.0.1:3001/dev"), "/");
  assert.equal(
    pageLocationFor("http://127.0.0.1:3001/?stage=prod", "ws://127.0.0.1:9/dev"),
    "/?url=ws%3A%2F%2F127.0.0.1%3A9%2Fdev",
  );
  assert.equal(pageLocationFor("http://127.0.0.1:3001/?stage=prod", "ws://127.0.0.1:3001/prod"), "/?stage=prod");
});

test("the ID token goes in the token query-string parameter, replacing any there", () => {
  assert.equal(withToken("wss://abc.execute-api.eu-west-1.amazonaws.com/dev", "a.b-c_d.e"), "wss://abc.execute-api.eu-west-1.amazonaws.com/dev?token=a.b-c_d.e");
  assert.equal(withToken("ws://127.0.0.1:3001/dev?token=old&x=1", "new"), "ws://127.0.0.1:3001/dev?token=new&x=1");
  assert.equal(withToken("ws://127.0.0.1:3001/dev", null), "ws://127.0.0.1:3001/dev");
});

const deployed = { websocketUrl: "wss://abc.execute-api.eu-west-1.amazonaws.com/prod", auth: { type: "none" } };

test("a page with config.json connects to its stage; ?url= and ?stage= still win", () => {
  const cloudfront = (search) => page(search, "https:", "d111111abcdef8.cloudfront.net");
  assert.equal(defaultSocketUrl(cloudfront(""), deployed), deployed.websocketUrl);
  assert.equal(defaultSocketUrl(cloudfront("?url=wss%3A%2F%2Fother%2Fdev"), deployed), "wss://other/dev");
  assert.equal(defaultSocketUrl(page("?stage=prod"), deployed), "ws://127.0.0.1:3001/prod");
});

test("the address bar of a configured page stays clean while it connects to its own stage", () => {
  const href = "https://web.chat.example.com/";
  assert.equal(pageLocationFor(href, deployed.websocketUrl, deployed), "/");
  assert.equal(pageLocationFor(href, "wss://other/dev", deployed), "/?url=wss%3A%2F%2Fother%2Fdev");
});
