// node --test: pairing the server's answers with the messages still pending (web/pending.js).
import assert from "node:assert/strict";
import { mock, test } from "node:test";

import { PendingMessages } from "../../web/pending.js";

const ME = "me=";
const BOB = "bob=";

function sent(pending, message, clientMessageId, recipients = [BOB]) {
  return pending.add({ message, recipients, clientMessageId, item: `item:${message}` });
}

test("accepted names its message by client_message_id and gives it the server's message_id", () => {
  const pending = new PendingMessages();
  const first = sent(pending, "one", "c1");
  const second = sent(pending, "two", "c2");

  assert.equal(pending.accept({ type: "accepted", message_id: "m2", client_message_id: "c2" }), second);
  assert.equal(second.messageId, "m2");
  assert.equal(first.messageId, null);
  assert.equal(pending.accept({ type: "accepted", message_id: "m9", client_message_id: "nope" }), null);
  assert.equal(pending.awaitsCopy("m2"), true);
  assert.equal(pending.size, 2, "accepted is not the end: the sender's own copy is");
  pending.drain();
});

test("the sender's own copy confirms the message it echoes, and only that one", () => {
  const pending = new PendingMessages();
  const first = sent(pending, "same text", "c1");
  sent(pending, "same text", "c2");

  const { fromMe, entry } = pending.confirm({ message: "same text", sender_id: ME, client_message_id: "c1" }, ME);

  assert.equal(fromMe, true);
  assert.equal(entry, first);
  assert.equal(pending.size, 1);
  assert.deepEqual(pending.confirm({ message: "hi", sender_id: BOB, recipient_id: ME }, ME), { fromMe: false, entry: null });
  pending.drain();
});

test("a server that echoes no client_message_id is paired by text and recipients, and tells us our id", () => {
  const pending = new PendingMessages();
  const entry = sent(pending, "hello", "c1", [BOB]);

  assert.equal(pending.confirm({ message: "hello", sender_id: ME, recipient_id: "other=" }, null).entry, null);
  const echo = { message: "hello", sender_id: ME, recipient_id: BOB, recipient_ids: [BOB] };
  assert.deepEqual(pending.confirm(echo, null), { fromMe: true, entry });
});

test("a refusal is pinned on the message it names, else on the oldest; other errors concern none", () => {
  const pending = new PendingMessages();
  const first = sent(pending, "one", "c1");
  const second = sent(pending, "two", "c2");

  assert.equal(pending.refuse({ type: "error", code: "unknown_action" }), null);
  assert.equal(pending.refuse({ type: "error", code: "invalid_request", client_message_id: "c2" }), second);
  assert.equal(pending.refuse({ code: "gateway_error", message: "Internal server error" }), first);
  assert.equal(pending.refuse({ type: "error", code: "not_sent" }), null, "nothing left to refuse");
});

test("a message left unanswered is reported overdue once, and never after its answer or the end", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    const overdue = [];
    const pending = new PendingMessages({ onOverdue: (entry) => overdue.push(entry.message), timeoutMs: 1000 });
    sent(pending, "slow", "c1");
    sent(pending, "answered", "c2");
    sent(pending, "ended", "c3");
    pending.confirm({ message: "answered", sender_id: ME, client_message_id: "c2" }, ME);

    mock.timers.tick(999);
    assert.deepEqual(overdue, []);
    mock.timers.tick(1);
    assert.deepEqual(overdue, ["slow", "ended"]);
    assert.deepEqual(
      pending.drain().map((entry) => entry.message),
      ["slow", "ended"],
      "overdue messages are still pending",
    );
    mock.timers.tick(5000);
    assert.deepEqual(overdue, ["slow", "ended"]);
  } finally {
    mock.timers.reset();
  }
});

test("a message the server accepted and then refused (a room's not_a_member names its message_id) is withdrawn", () => {
  const pending = new PendingMessages();
  const entry = sent(pending, "hi room", "c1", []);
  pending.accept({ type: "accepted", message_id: "m1", client_message_id: "c1" });

  assert.equal(pending.withdraw("m2"), null);
  assert.equal(pending.withdraw("m1"), entry);
  assert.equal(pending.size, 0);
});

test("a room error with no client_message_id concerns no pending message (it answers a room action)", () => {
  const pending = new PendingMessages();
  sent(pending, "one", "c1");

  assert.equal(pending.refuse({ type: "error", code: "not_a_member", message: "join it first" }), null);
  assert.equal(pending.size, 1);
});
