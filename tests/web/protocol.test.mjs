// node --test: the browser client's side of the wire format (web/protocol.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  composeSendMessage,
  deliveryFailures,
  describeClose,
  describeError,
  frameType,
  messageOrigin,
  newClientMessageId,
  outgoingProblem,
  parseFrame,
  parseRecipients,
  recipientsOf,
  sendMessageFrame,
  senderOf,
  userDeliveryFailures,
} from "../../web/protocol.js";

test("recipients are split on commas, semicolons and white space, without repeats", () => {
  assert.deepEqual(parseRecipients("a, b\nc  a;d"), ["a", "b", "c", "d"]);
  assert.deepEqual(parseRecipients("   "), []);
});

test("one recipient is sent as recipient_id, several as recipient_ids, with the client's id", () => {
  assert.deepEqual(sendMessageFrame("hi", ["a"]), { action: "sendMessage", message: "hi", recipient_id: "a" });
  assert.deepEqual(sendMessageFrame("hi", ["a", "b"], "tab-1"), {
    action: "sendMessage",
    message: "hi",
    recipient_ids: ["a", "b"],
    client_message_id: "tab-1",
  });
});

test("client message ids fit the server's pattern", () => {
  for (let i = 0; i < 20; i += 1) assert.match(newClientMessageId(), /^[A-Za-z0-9_-]{1,64}$/);
});

test("what cannot be sent is explained before sending", () => {
  assert.match(outgoingProblem("hi", []), /at least one recipient/);
  assert.match(outgoingProblem("hi", Array.from({ length: 21 }, (_, i) => `id${i}`)), /at most 20/);
  assert.match(outgoingProblem("  ", ["a"]), /Type a message/);
  // 8193 two-byte characters: the limit counts UTF-8 bytes, not characters.
  assert.match(outgoingProblem("é".repeat(8193), ["a"]), /16386 bytes/);
  assert.equal(outgoingProblem("é".repeat(8192), ["a"]), null);
});

test("a message whose escaped frame would exceed API Gateway's 32 KB frame is refused before sending", () => {
  // 16 KiB of quotes is within the message limit, but each becomes \" in the JSON frame: 32 KB and more.
  assert.match(outgoingProblem('"'.repeat(16 * 1024), ["a"]), /bytes on the wire; one frame carries at most 32768 bytes/);
  assert.equal(outgoingProblem('"'.repeat(16 * 1024 - 200), ["a"]), null);
});

test("frames are JSON objects; anything else is refused", () => {
  assert.deepEqual(parseFrame('{"type":"connection","connection_id":"x"}'), { type: "connection", connection_id: "x" });
  for (const data of ["not json", "[]", "null", "3"]) assert.equal(parseFrame(data), null);
});

test("the seed's untyped frames and API Gateway's error answer are recognised", () => {
  assert.equal(frameType({ connection_id: "x" }), "connection");
  assert.equal(frameType({ message: "hi", sender_id: "a", recipient_id: "b" }), "message");
  assert.equal(frameType({ message: "Internal server error", connectionId: "x", requestId: "r" }), "gateway_error");
  assert.equal(frameType({ type: "accepted", message_id: "m" }), "accepted");
});

test("recipients of a frame: recipient_ids first, else the seed's recipient_id", () => {
  assert.deepEqual(recipientsOf({ recipient_id: "a", recipient_ids: ["a", "b", 3] }), ["a", "b"]);
  assert.deepEqual(recipientsOf({ recipient_id: "a" }), ["a"]);
  assert.deepEqual(recipientsOf({}), []);
});

test("each failed recipient is named with its own cause", () => {
  const frame = {
    type: "delivery_failed",
    reason: "failed",
    recipient_ids: ["a", "b"],
    failures: [
      { connection_id: "a", status: "gone" },
      { connection_id: "b", status: "failed", error: "Forbidden" },
    ],
  };
  assert.deepEqual(deliveryFailures(frame), [
    { id: "a", why: "not reachable" },
    { id: "b", why: "not reachable (delivery failed: Forbidden)" },
  ]);
  assert.deepEqual(deliveryFailures({ reason: "gone", recipient_id: "c" }), [{ id: "c", why: "not reachable" }]);
});

test("close codes and error frames are put in plain words", () => {
  assert.equal(describeClose(1009, ""), "Closed (code 1009) — a frame was too large.");
  assert.match(describeClose(4000, "bye"), /code 4000: bye.*the connection ended/);
  assert.match(describeError({ code: "invalid_request", message: "message is empty" }), /did not accept.*message is empty/);
  assert.match(describeError({ code: "not_sent" }), /try again/);
  assert.match(describeError({}), /no details given/);
});

test("to people, usernames go in recipient_users, distinct as Cognito compares them", () => {
  assert.deepEqual(parseRecipients("Bob, carol bob\nCAROL", { people: true }), ["Bob", "carol"]);
  assert.deepEqual(sendMessageFrame("hi", ["bob"], "tab-1", { people: true }), {
    action: "sendMessage",
    message: "hi",
    recipient_users: ["bob"],
    client_message_id: "tab-1",
  });
  assert.match(outgoingProblem("hi", [], { people: true }), /type the username/);
  assert.match(outgoingProblem("hi", ["x".repeat(129)], { people: true }), /is not a username/);
  assert.equal(composeSendMessage("hi", "x".repeat(129), "t", { people: true }).field, "recipients");
  assert.equal(composeSendMessage(" ", "bob", "t", { people: true }).field, "message");
});

test("a message names its sender's user when the stage has sign-in, and only its connection when not", () => {
  const user = { id: "7d3c6a0e", name: "alice" };
  assert.deepEqual(senderOf({ sender_id: "abc=", sender: user }), { connectionId: "abc=", user });
  assert.deepEqual(senderOf({ sender_id: "abc=" }), { connectionId: "abc=", user: null });
  assert.deepEqual(senderOf({ sender_id: "abc=", sender: { id: 7 } }), { connectionId: "abc=", user: null });
  assert.deepEqual(recipientsOf({ recipient_users: ["bob", 3, "carol"] }), ["bob", "carol"]);
});

test("a message to people reports the users who did not get it, not their stale connections", () => {
  const frame = {
    type: "delivery_failed",
    reason: "failed",
    failures: [
      { connection_id: "gone=", status: "gone" },
      { username: "carol", status: "offline" },
      { username: "dave", status: "failed", error: "DynamoDB.ServiceException" },
    ],
  };
  assert.deepEqual(userDeliveryFailures(frame), [
    { id: "carol", why: "is not connected anywhere" },
    { id: "dave", why: "could not be reached (their connections could not be looked up)" },
  ]);
  assert.deepEqual(userDeliveryFailures({ failures: [{ connection_id: "gone=", status: "gone" }] }), []);
});

test("the identity errors are explained", () => {
  assert.match(describeError({ code: "unknown_user", message: "no user is called 'bobb'" }), /no user is called 'bobb'.*spelling/);
  assert.match(describeError({ code: "no_users", message: "x" }), /no sign-in/);
  assert.match(describeError({ code: "token_expired", message: "x" }), /reconnects/);
});

test("a message from the signed-in user's other tab or device is theirs; one from this connection is this tab's", () => {
  const alice = { id: "sub-alice", name: "alice" };
  const own = { connectionId: "tab1=", userId: "sub-alice" };
  assert.equal(messageOrigin({ sender_id: "tab1=", sender: alice }, own), "this-connection");
  assert.equal(messageOrigin({ sender_id: "tab2=", sender: alice }, own), "elsewhere");
  assert.equal(messageOrigin({ sender_id: "tab3=", sender: { id: "sub-bob", name: "bob" } }, own), "other");
  // Without sign-in there are no users: only this connection's own messages are ours.
  assert.equal(messageOrigin({ sender_id: "tab2=" }, { connectionId: "tab1=" }), "other");
  assert.equal(messageOrigin({ sender_id: "tab2=", sender: alice }, { connectionId: "tab1=" }), "other");
});
