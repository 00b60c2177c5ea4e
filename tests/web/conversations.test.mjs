import assert from "node:assert/strict";
import test from "node:test";

import { Conversations, HISTORY_PAGE, conversationOfPage, conversationsOf, directKey, roomKey, sentKeyOf } from "../../web/conversations.js";

const ALICE = { id: "sub-alice", name: "Alice" };
const BOB = { id: "sub-bob", name: "Bob" };

let counter = 0;
function message({ from, to = [], room = null, at }) {
  counter += 1;
  const id = `00000000-0000-4000-8000-${String(counter).padStart(12, "0")}`;
  return {
    type: "message",
    message_id: id,
    message: `message ${counter}`,
    sender_id: "CfF0ed8QoAMCKxQ=",
    sender: from,
    ...(room ? { room } : { recipient_users: to }),
    sent_at: at,
  };
}

test("a message belongs to the room it names, else to the conversation with the other user", () => {
  assert.deepEqual(conversationsOf(message({ from: BOB, room: "general", at: "2026-12-06T10:00:00.000Z" }), ALICE), [
    { key: "room:general", kind: "room", name: "general" },
  ]);
  assert.deepEqual(conversationsOf(message({ from: BOB, to: ["Alice"], at: "2026-12-06T10:00:00.000Z" }), ALICE), [
    { key: "dm:bob", kind: "dm", name: "Bob" },
  ]);
  // Mine, to two people: my conversation with each; to myself: my conversation with myself.
  assert.deepEqual(
    conversationsOf(message({ from: ALICE, to: ["Bob", "Carol"], at: "2026-12-06T10:00:00.000Z" }), ALICE).map(({ key }) => key),
    ["dm:bob", "dm:carol"],
  );
  assert.deepEqual(
    conversationsOf(message({ from: ALICE, to: ["ALICE"], at: "2026-12-06T10:00:00.000Z" }), ALICE).map(({ key }) => key),
    ["dm:alice"],
  );
  assert.deepEqual(conversationOfPage({ type: "history", with: "Bob", messages: [] }), { key: directKey("bob"), kind: "dm", name: "Bob" });
  assert.deepEqual(conversationOfPage({ type: "history_end", room: "General" }), { key: roomKey("general"), kind: "room", name: "General" });
});

test("a message is counted once, unread only when someone else's, new, in a conversation not open", () => {
  const conversations = new Conversations();
  const withBob = conversations.ensure({ key: "dm:bob", kind: "dm", name: "Bob" });
  const first = message({ from: BOB, to: ["Alice"], at: "2026-12-06T10:00:01.000Z" });

  assert.equal(conversations.addMessage(withBob, first, { fromOthers: true }), true);
  assert.equal(conversations.addMessage(withBob, first, { fromOthers: true }), false); // the same message_id again
  assert.equal(withBob.unread, 1);
  assert.equal(withBob.newestKey, sentKeyOf(first));

  conversations.addMessage(withBob, message({ from: ALICE, to: ["Bob"], at: "2026-12-06T10:00:02.000Z" }), { fromOthers: false });
  assert.equal(withBob.unread, 1); // mine: never unread

  conversations.open("dm:bob");
  assert.equal(withBob.unread, 0);
  conversations.addMessage(withBob, message({ from: BOB, to: ["Alice"], at: "2026-12-06T10:00:03.000Z" }), { fromOthers: true });
  assert.equal(withBob.unread, 0); // read as it arrives
});

test("after a reconnect only what is newer than what was held is read back, and only that counts as unread", () => {
  const conversations = new Conversations();
  const held = message({ from: BOB, to: ["Alice"], at: "2026-12-06T10:00:01.000Z" });
  const withBob = conversations.ensure({ key: "dm:bob", kind: "dm", name: "Bob" });
  conversations.addMessage(withBob, held, { fromOthers: true });
  conversations.open("dm:bob");
  conversations.open("dm:carol"); // the reader looks elsewhere
  conversations.offlineSince = "2026-12-06T10:00:05.000Z";
  const missed = [2, 3, 4].map((second) => message({ from: BOB, to: ["Alice"], at: `2026-12-06T10:00:0${second + 4}.000Z` }));
  conversations.listConversations({ type: "conversations", conversations: [{ with: "Bob", last_sent_key: sentKeyOf(missed[2]) }], more: false });

  const behind = conversations.needingCatchUp("dm");

  assert.deepEqual(behind.map(({ key }) => key), ["dm:bob"]);
  assert.deepEqual(conversations.startReading(withBob, "catch-up"), { action: "history", with: "Bob", limit: HISTORY_PAGE });
  assert.equal(conversations.startReading(withBob, "older"), null); // one request at a time
  // The newest page holds the two newest; it ends with a cursor, and its oldest is still newer than what was held.
  for (const frame of [missed[2], missed[1]]) conversations.addMessage(withBob, frame, { fromOthers: true });
  const next = conversations.pageEnded(withBob, { type: "history_end", with: "Bob", before: "cursor-2" }, sentKeyOf(missed[1]));
  assert.deepEqual(next, { action: "history", with: "Bob", limit: HISTORY_PAGE, before: "cursor-2" });
  for (const frame of [missed[0], held]) conversations.addMessage(withBob, frame, { fromOthers: true });
  assert.equal(conversations.pageEnded(withBob, { type: "history_end", with: "Bob", before: null }, sentKeyOf(held)), null);

  assert.equal(withBob.unread, 3);
  assert.equal(withBob.newestKey, sentKeyOf(missed[2]));
  assert.deepEqual(conversations.needingCatchUp("dm"), []); // nothing newer listed than held now
});

test("a conversation listed with nothing newer than held, or never held, is not read back after a reconnect", () => {
  const conversations = new Conversations();
  const withBob = conversations.ensure({ key: "dm:bob", kind: "dm", name: "Bob" });
  const held = message({ from: BOB, to: ["Alice"], at: "2026-12-06T10:00:01.000Z" });
  conversations.addMessage(withBob, held, { fromOthers: true });
  conversations.listConversations({ type: "conversations", conversations: [{ with: "Bob", last_sent_key: sentKeyOf(held) }], more: false });
  const room = conversations.ensure({ key: "room:general", kind: "room", name: "general" });

  assert.deepEqual(conversations.needingCatchUp("dm"), []);
  assert.deepEqual(conversations.needingCatchUp("room"), []); // a room with nothing held is read when opened
  conversations.addMessage(room, message({ from: BOB, room: "general", at: "2026-12-06T10:00:02.000Z" }), { fromOthers: true });
  assert.deepEqual(conversations.needingCatchUp("room").map(({ key }) => key), ["room:general"]);
});

test("scrolling up reads the page before the oldest read, until there is none", () => {
  const conversations = new Conversations();
  const room = conversations.ensure({ key: "room:general", kind: "room", name: "general" });

  assert.equal(conversations.startReading(room, "older"), null); // nothing read yet
  assert.deepEqual(conversations.startReading(room, "open"), { action: "history", room: "general", limit: HISTORY_PAGE });
  conversations.pageEnded(room, { type: "history_end", room: "general", before: "cursor-1" }, null);
  assert.deepEqual(conversations.startReading(room, "older"), { action: "history", room: "general", limit: HISTORY_PAGE, before: "cursor-1" });
  conversations.pageEnded(room, { type: "history_end", room: "general", before: null }, null);
  assert.equal(room.cursor, null);
  assert.equal(conversations.startReading(room, "older"), null);
});

test("rooms: the list (in parts), members with their online dots, and presence", () => {
  const conversations = new Conversations();
  assert.equal(conversations.listRooms({ type: "rooms", rooms: [{ room: "general", policy: "open", member_count: 2 }], part: 1, parts: 2 }), false);
  assert.equal(conversations.listRooms({ type: "rooms", rooms: [{ room: "random", policy: "open", member_count: 5 }], part: 2, parts: 2 }), true);
  assert.deepEqual(conversations.all.filter((entry) => entry.member).map(({ key }) => key), ["room:general", "room:random"]);
  const general = conversations.get("room:general");
  conversations.setMembers(general, [
    { user: ALICE, online: true },
    { user: BOB, online: false },
  ]);

  conversations.presence(BOB, true, 8);
  assert.equal(general.members.get("sub-bob").online, true);
  conversations.presence(BOB, false, 7); // an older announcement, arriving late
  assert.equal(general.members.get("sub-bob").online, true);
  conversations.memberLeft(general, BOB);
  assert.deepEqual([...general.members.keys()], ["sub-alice"]);
  conversations.listRooms({ type: "rooms", rooms: [], part: 1, parts: 1 }); // left it elsewhere
  assert.equal(general.member, false);
});

test("every history request the page makes, and the frames it reads, are ones the document describes", async () => {
  const { assertClientFrame, assertServerFrame } = await import("./wire-format.mjs");
  const conversations = new Conversations();
  const withBob = conversations.ensure({ key: "dm:bob", kind: "dm", name: "Bob" });
  assert.equal(assertClientFrame(conversations.startReading(withBob, "open")), "history");
  conversations.pageEnded(withBob, { type: "history_end", with: "Bob", before: "MjAyNi0xMi0wNlQxNTozNjoyMS4wODla" }, null);
  assert.equal(assertClientFrame(conversations.startReading(withBob, "older")), "history");
  assert.equal(assertClientFrame({ action: "listConversations" }), "listConversations");
  const listed = {
    type: "conversations",
    conversations: [{ with: "Bob", last_sent_key: "2026-12-06T10:00:01.000Z#00000000-0000-4000-8000-000000000001" }],
    more: false,
  };
  assert.equal(assertServerFrame(listed), "conversations");
  conversations.listConversations(listed);
  assert.equal(withBob.listedKey, listed.conversations[0].last_sent_key);
});

test("the room frames the page sends are ones the document describes", async () => {
  const { assertClientFrame } = await import("./wire-format.mjs");
  const { composeSendMessage, roomActionFrame } = await import("../../web/protocol.js");
  for (const action of ["joinRoom", "leaveRoom", "roomMembers"]) assert.equal(assertClientFrame(roomActionFrame(action, "General")), action);
  assert.equal(assertClientFrame({ action: "listRooms" }), "listRooms");
  const composed = composeSendMessage("hi all", "#General", "c1", { people: true });
  assert.deepEqual(composed.frame, { action: "sendMessage", message: "hi all", room: "General", client_message_id: "c1" });
  assert.equal(assertClientFrame(composed.frame), "sendMessage");
  assert.equal(composeSendMessage("hi", "#no room", "c2", { people: true }).field, "recipients");
  const conversations = new Conversations();
  const room = conversations.ensure({ key: "room:general", kind: "room", name: "general" });
  assert.equal(assertClientFrame(conversations.startReading(room, "open")), "history");
});
