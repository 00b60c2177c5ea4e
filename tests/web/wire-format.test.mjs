// node --test: docs/asyncapi.yaml is a valid AsyncAPI 3 document, web/protocol.js reads every example
// it documents, sends only frames it describes, and copies its limits exactly.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CLIENT_MESSAGE_ID,
  MAX_CLIENT_MESSAGE_ID_LENGTH,
  MAX_FRAME_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_RECIPIENTS,
  MAX_USERNAME_LENGTH,
  USERNAME,
  composeSendMessage,
  frameType,
  newClientMessageId,
  outgoingProblem,
  parseFrame,
  sendMessageFrame,
} from "../../web/protocol.js";
import {
  asyncApiProblems,
  assertClientFrame,
  assertServerFrame,
  document,
  examples,
  matchingMessages,
  schema,
} from "./wire-format.mjs";

const ALICE = "CfF2b3hQoAMCJ-g=";
const BOB = "CfF2dHqMoAMCLzQ=";

test("the document is valid AsyncAPI 3.0.0, and the check can fail", () => {
  assert.deepEqual(asyncApiProblems(document), []);
  const broken = structuredClone(document);
  broken.operations.receiveSendMessage.action = "publish"; // AsyncAPI 2's word
  assert.notDeepEqual(asyncApiProblems(broken), []);
});

for (const [message, example, payload] of examples()) {
  test(`example ${message}/${example} is that message and no other`, () => {
    assert.deepEqual([...matchingMessages(payload, "send"), ...matchingMessages(payload, "receive")], [message]);
  });
}

test("the client reads every documented server frame as its type", () => {
  const kinds = {
    gatewayError: "gateway_error",
    deliveryFailed: "delivery_failed",
    historyRequested: "history_requested",
    historyPage: "history",
    historyEnd: "history_end",
    listConversationsRequested: "listConversations_requested",
    joinRoomRequested: "joinRoom_requested",
    leaveRoomRequested: "leaveRoom_requested",
    inviteToRoomRequested: "inviteToRoom_requested",
    listRoomsRequested: "listRooms_requested",
    roomMembersRequested: "roomMembers_requested",
    memberJoined: "member_joined",
    memberLeft: "member_left",
    roomMemberList: "room_members",
  };
  // Frames a client sends carry an action (sendMessage, history); the server's carry a type.
  for (const [message, , payload] of examples().filter(([, , frame]) => !("action" in frame))) {
    const frame = parseFrame(JSON.stringify(payload));
    assert.equal(frameType(frame), kinds[message] ?? message, message);
    assert.equal(assertServerFrame(frame), message);
  }
});

test("the client's limits are the document's", () => {
  assert.equal(MAX_RECIPIENTS, schema("Recipients").maxItems);
  assert.equal(MAX_MESSAGE_BYTES, schema("MessageText")["x-max-utf8-bytes"]);
  assert.equal(MAX_FRAME_BYTES, document.channels.chat["x-max-frame-bytes"]);
  assert.equal(CLIENT_MESSAGE_ID.source, schema("ClientMessageId").pattern);
  assert.equal(MAX_CLIENT_MESSAGE_ID_LENGTH, schema("ClientMessageId").maxLength);
  for (let i = 0; i < 20; i += 1) assert.match(newClientMessageId(), CLIENT_MESSAGE_ID);
});

test("every sendMessage frame the client would send is one the document describes", () => {
  const cases = [
    ["Hello", [ALICE]],
    ["Hello all", [ALICE, BOB]],
    ["é".repeat(MAX_MESSAGE_BYTES / 2), [ALICE]],
    ["x", Array.from({ length: MAX_RECIPIENTS }, (_, n) => `id${n}`)],
    ['"quoted" \\ and \u0001 controls', [ALICE]],
  ];
  for (const [message, recipients] of cases) {
    assert.equal(outgoingProblem(message, recipients), null, message);
    for (const clientMessageId of [undefined, newClientMessageId()]) {
      assert.equal(assertClientFrame(sendMessageFrame(message, recipients, clientMessageId)), "sendMessage");
    }
  }
});

test("what the document refuses, the client refuses before sending", () => {
  const refused = [
    ["Hello", []],
    ["  ", [ALICE]],
    ["é".repeat(MAX_MESSAGE_BYTES / 2 + 1), [ALICE]],
    ["x", Array.from({ length: MAX_RECIPIENTS + 1 }, (_, n) => `id${n}`)],
  ];
  for (const [message, recipients] of refused) {
    assert.notEqual(outgoingProblem(message, recipients), null);
    assert.throws(() => assertClientFrame(sendMessageFrame(message, recipients)), /not exactly one message/);
  }
});

test("the compose box sends only documented frames, or says which input to fix", () => {
  const composed = composeSendMessage("Hello", `${ALICE}, ${BOB}`);
  assert.equal(assertClientFrame(composed.frame), "sendMessage");
  assert.deepEqual(composed.recipients, [ALICE, BOB]);
  assert.equal(composed.frame.client_message_id, composed.clientMessageId);
  assert.equal(assertClientFrame(composeSendMessage("Hi", ALICE, "tab-1").frame), "sendMessage");
  assert.equal(composeSendMessage("Hello", " ").field, "recipients");
  assert.equal(composeSendMessage(" ", ALICE).field, "message");
});

test("every frame the client sends to people is one the document describes, and what it refuses the document does", () => {
  const people = { people: true };
  const sendable = [["hi", ["bob"]], ["hi all", ["bob", "Carol", "dåve"]], ["x", Array.from({ length: MAX_RECIPIENTS }, (_, n) => `user${n}`)]];
  for (const [message, names] of sendable) {
    assert.equal(outgoingProblem(message, names, people), null);
    assert.equal(assertClientFrame(sendMessageFrame(message, names, newClientMessageId(), people)), "sendMessage");
  }
  const composed = composeSendMessage("hi", "bob, BOB carol", "tab-2", people);
  assert.equal(assertClientFrame(composed.frame), "sendMessage");
  assert.deepEqual(composed.frame.recipient_users, ["bob", "carol"]);
  const refused = [["hi", []], ["hi", ["x".repeat(129)]], ["hi", ["tab\u0001name"]], ["hi", Array.from({ length: 21 }, (_, n) => `u${n}`)]];
  for (const [message, names] of refused) {
    assert.notEqual(outgoingProblem(message, names, people), null, JSON.stringify(names).slice(0, 40));
    assert.throws(() => assertClientFrame(sendMessageFrame(message, names, undefined, people)), /not exactly one message/);
  }
});

test("the client's username rule is the document's", () => {
  assert.equal(USERNAME.source, schema("Username").pattern);
  assert.equal(MAX_USERNAME_LENGTH, schema("Username").maxLength);
  for (const name of ["bob", "a".repeat(128), "dåve", "o'neil"]) assert.match(name, new RegExp(schema("Username").pattern, "u"));
  for (const name of ["", "a b", "a".repeat(129), "a\u0001"]) {
    assert.equal(USERNAME.test(name), new RegExp(schema("Username").pattern, "u").test(name), JSON.stringify(name));
  }
});
