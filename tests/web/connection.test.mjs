// node --test: one connection at a time, its states, its id and reconnecting (web/connection.js),
// driven with a fake WebSocket.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ChatConnection } from "../../web/connection.js";

class FakeSocket {
  static opened = [];

  constructor(url) {
    if (url.includes("refused")) throw new Error("blocked by the page's policy");
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.listeners = {};
    FakeSocket.opened.push(this);
  }

  addEventListener(type, listener) {
    (this.listeners[type] ??= []).push(listener);
  }

  emit(type, event = {}) {
    if (type === "open") this.readyState = 1;
    if (type === "close") this.readyState = 3;
    for (const listener of this.listeners[type] ?? []) listener(event);
  }

  send(text) {
    this.sent.push(text);
  }

  close(code, reason) {
    this.closedWith = [code, reason];
    this.readyState = 2;
  }
}

function connection() {
  const seen = { status: [], identity: [], frames: [], ended: [] };
  const chat = new ChatConnection({
    WebSocketClass: FakeSocket,
    onStatus: (state, text) => seen.status.push([state, text]),
    onIdentity: (id, live) => seen.identity.push([id, live]),
    onFrame: (data) => seen.frames.push(data),
    onEnded: (why) => seen.ended.push(why),
  });
  return { chat, seen, socket: () => FakeSocket.opened.at(-1) };
}

test("connecting, learning the id, sending, closing: each step is told", () => {
  const { chat, seen, socket } = connection();

  assert.deepEqual(chat.connect(" http://127.0.0.1:3001/dev "), { url: "ws://127.0.0.1:3001/dev" });
  assert.equal(chat.notOpenReason(), "still connecting; wait a moment and send again");
  assert.throws(() => chat.send("{}"), /still connecting/);
  socket().emit("open");
  socket().emit("message", { data: '{"type":"connection","connection_id":"abc="}' });
  chat.identify("abc=");
  chat.send('{"action":"sendMessage"}');
  socket().emit("close", { code: 1006, reason: "" });

  assert.deepEqual(
    seen.status.map(([state]) => state),
    ["connecting", "open", "open", "closed"],
  );
  assert.match(seen.status.at(-1)[1], /code 1006.*lost.*\(ws:\/\/127\.0\.0\.1:3001\/dev\)/);
  assert.deepEqual(seen.identity, [
    [null, false],
    ["abc=", true],
    ["abc=", false],
  ]);
  assert.deepEqual(seen.frames, ['{"type":"connection","connection_id":"abc="}']);
  assert.deepEqual(socket().sent, ['{"action":"sendMessage"}']);
  assert.equal(seen.ended.length, 1);
  assert.equal(chat.live, false);
  assert.equal(chat.notOpenReason(), "the connection is closed; choose Reconnect, then send again");
});

test("a bad URL is explained and leaves the current connection alone", () => {
  const { chat, seen, socket } = connection();
  chat.connect("ws://127.0.0.1:3001/dev");
  const current = socket();

  assert.match(chat.connect("ftp://example.com/dev").error, /ws:\/\/ or wss:\/\//);
  assert.match(chat.connect("").error, /Type a WebSocket URL/);
  assert.equal(socket(), current);
  assert.equal(current.closedWith, undefined);
  assert.equal(seen.ended.length, 0);
});

test("reconnecting closes the old socket, whose later events are ignored, and gets a new id", () => {
  const { chat, seen, socket } = connection();
  chat.connect("ws://127.0.0.1:3001/dev");
  const old = socket();
  old.emit("open");
  chat.identify("old=");

  chat.reconnect("ws://elsewhere/dev");
  old.emit("close", { code: 1000, reason: "reconnecting" });
  old.emit("message", { data: "late" });

  assert.deepEqual(old.closedWith, [1000, "reconnecting"]);
  assert.equal(socket().url, "ws://127.0.0.1:3001/dev", "the last URL, not the fallback");
  assert.equal(chat.connectionId, null);
  assert.deepEqual(seen.ended, ["The previous connection was closed to connect again."]);
  assert.deepEqual(seen.frames, []);
  assert.equal(seen.status.at(-1)[0], "connecting");
});

test("a socket the browser refuses to open leaves the page closed, saying why", () => {
  const { chat, seen } = connection();
  assert.equal(chat.notOpenReason(), "not connected; enter a WebSocket URL and choose Connect");

  chat.connect("ws://refused/dev");

  assert.deepEqual(seen.status.at(-1), ["closed", "Could not connect to ws://refused/dev: blocked by the page's policy"]);
  assert.equal(chat.live, false);
});

test("disconnecting closes with 1000", () => {
  const { chat, socket } = connection();
  chat.disconnect(); // nothing to close yet
  chat.connect("ws://127.0.0.1:3001/dev");
  chat.disconnect();
  assert.deepEqual(socket().closedWith, [1000, "closed by the user"]);
});

test("every connect opens the address socketUrl gives at that moment; the token stays out of what is shown", () => {
  let token = "first";
  const seen = { status: [] };
  const chat = new ChatConnection({
    WebSocketClass: FakeSocket,
    socketUrl: (url) => `${url}?token=${token}`,
    onStatus: (state, text) => seen.status.push([state, text]),
    onIdentity: () => {},
    onFrame: () => {},
    onEnded: () => {},
  });
  chat.connect("ws://127.0.0.1:3001/dev");
  assert.equal(FakeSocket.opened.at(-1).url, "ws://127.0.0.1:3001/dev?token=first");

  token = "renewed";
  chat.reconnect();
  assert.equal(FakeSocket.opened.at(-1).url, "ws://127.0.0.1:3001/dev?token=renewed");
  assert.equal(chat.url, "ws://127.0.0.1:3001/dev");
  assert.ok(seen.status.every(([, text]) => !text.includes("token")), JSON.stringify(seen.status));
});

test("a connection the page's security policy refused is over at once, saying why, and Reconnect is offered", () => {
  // Chromium blocks a WebSocket to a host the Content-Security-Policy does not allow without ever closing it.
  const { chat, seen, socket } = connection();
  chat.connect("wss://elsewhere.example.com/dev");

  chat.refuse("This page may connect only to its own stage's endpoint");

  assert.equal(chat.live, false);
  assert.deepEqual(seen.status.at(-1), [
    "closed",
    "This page may connect only to its own stage's endpoint (wss://elsewhere.example.com/dev)",
  ]);
  assert.deepEqual(seen.identity.at(-1), [null, false]);
  assert.deepEqual(socket().closedWith, [undefined, undefined]);
  socket().emit("close", { code: 1006, reason: "" }); // a late close of the refused socket is ignored
  assert.equal(seen.status.filter(([state]) => state === "closed").length, 1);
  chat.refuse("again"); // nothing is connecting any more
  assert.equal(seen.status.length, 2);
});
