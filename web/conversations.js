// The signed-in user's conversations as this page knows them: direct conversations (listConversations) and rooms
// (listRooms), which conversation each message belongs to, unread counts, history cursors, and what to fetch after
// a reconnect. No DOM: `node --test` (tests/web) covers it. The frames are docs/asyncapi.yaml's.

// Messages a history request asks for: a screenful or two, so opening a conversation is quick; scrolling up reads
// the next page (the server allows up to its stage's history.max_page).
export const HISTORY_PAGE = 20;

/** A message's place in its conversation, as the server keys it: `<sent_at>#<message_id>`; keys sort as text. */
export function sentKeyOf(frame) {
  return typeof frame?.sent_at === "string" && typeof frame?.message_id === "string" ? `${frame.sent_at}#${frame.message_id}` : null;
}

/** The page's key of a direct conversation with `name` (usernames are not case-sensitive) or of a room. */
export const directKey = (name) => `dm:${String(name).toLowerCase()}`;
export const roomKey = (room) => `room:${String(room).toLowerCase()}`;

/** The conversations a message frame belongs to, seen by the user `me` ({id, name}): its room; else, sent by me,
 * my conversation with each user it was sent to; else my conversation with its sender. Each as {key, kind, name}. */
export function conversationsOf(frame, me) {
  if (typeof frame.room === "string" && frame.room) return [{ key: roomKey(frame.room), kind: "room", name: frame.room }];
  const sender = frame.sender && typeof frame.sender.name === "string" ? frame.sender : null;
  const recipients = Array.isArray(frame.recipient_users) ? frame.recipient_users.filter((name) => typeof name === "string") : [];
  if (!sender || !me) return [];
  const mine = sender.id === me.id || sender.name.toLowerCase() === String(me.name).toLowerCase();
  if (!mine) return [{ key: directKey(sender.name), kind: "dm", name: sender.name }];
  const others = recipients.filter((name) => name.toLowerCase() !== String(me.name).toLowerCase());
  const names = others.length ? others : recipients; // a note to oneself is one's conversation with oneself
  return names.map((name) => ({ key: directKey(name), kind: "dm", name }));
}

/** The conversation a history or history_end frame is about. */
export function conversationOfPage(frame) {
  if (typeof frame.room === "string") return { key: roomKey(frame.room), kind: "room", name: frame.room };
  if (typeof frame.with === "string") return { key: directKey(frame.with), kind: "dm", name: frame.with };
  return null;
}

export class Conversations {
  #entries = new Map();

  /** `onChange()`: the list, an unread count or a member changed (the page re-renders the list). */
  constructor({ onChange = () => {} } = {}) {
    this.onChange = onChange;
    /** The key of the conversation the reader has open, or null. */
    this.openKey = null;
    /** Sort key below which a message from someone else is not new: when the page last was connected. */
    this.offlineSince = null;
    /** user id -> the newest presence version seen. */
    this.presenceVersions = new Map();
  }

  get all() {
    return [...this.#entries.values()];
  }

  get(key) {
    return this.#entries.get(key) ?? null;
  }

  /** The entry of a conversation, made when first heard of. */
  ensure({ key, kind, name }) {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = {
        key,
        kind,
        name,
        unread: 0,
        newestKey: null, // the newest message this page holds of it
        listedKey: null, // the newest the server listed (listConversations), direct conversations only
        keys: new Set(), // every message id shown in it
        cursor: undefined, // undefined: no history read yet; a string: the next older page's; null: none older
        loading: false, // a history request of it is under way (one at a time: pages of two would interleave)
        catchUpTo: null, // after a reconnect: read back until this key (the newest held before)
        pageOldest: null, // the oldest message of the history page being read
        member: kind === "room",
        members: new Map(), // rooms: user id -> {user, online}
        policy: null,
        memberCount: null,
      };
      this.#entries.set(key, entry);
      this.onChange();
    }
    return entry;
  }

  /** A message frame of this conversation: false when it was already shown here (dedupe by message_id), else
   * true, counting it unread when it is someone else's, newer than what the reader had seen, in a conversation
   * that is not open. */
  addMessage(entry, frame, { fromOthers }) {
    if (typeof frame.message_id === "string" && entry.keys.has(frame.message_id)) return false;
    if (typeof frame.message_id === "string") entry.keys.add(frame.message_id);
    const key = sentKeyOf(frame);
    const seenUpTo = entry.catchUpTo ?? entry.newestKey ?? this.offlineSince;
    const isNew = key !== null && (seenUpTo === null || key > seenUpTo);
    if (key !== null && (entry.newestKey === null || key > entry.newestKey)) entry.newestKey = key;
    if (fromOthers && isNew && entry.key !== this.openKey) {
      entry.unread += 1;
      this.onChange();
    }
    return true;
  }

  /** The reader opens a conversation: its unread count is read. */
  open(key) {
    this.openKey = key;
    const entry = this.get(key);
    if (entry) entry.unread = 0;
    this.onChange();
    return entry;
  }

  /** A `conversations` frame: each listed direct conversation, with the newest key the server has of it. */
  listConversations(frame) {
    for (const listed of Array.isArray(frame.conversations) ? frame.conversations : []) {
      if (typeof listed?.with !== "string") continue;
      const entry = this.ensure({ key: directKey(listed.with), kind: "dm", name: listed.with });
      if (typeof listed.last_sent_key === "string") entry.listedKey = listed.last_sent_key;
    }
    this.onChange();
  }

  /** A `rooms` frame (part `part` of `parts`): the rooms I am a member of. True once the last part is in: the rooms
   * none of the parts named I am no longer in. */
  listRooms(frame) {
    const part = Number.isInteger(frame.part) ? frame.part : 1;
    const parts = Number.isInteger(frame.parts) ? frame.parts : 1;
    if (part === 1 || !this.listedRooms) this.listedRooms = new Set();
    const listed = this.listedRooms;
    for (const room of Array.isArray(frame.rooms) ? frame.rooms : []) {
      if (typeof room?.room !== "string") continue;
      const entry = this.ensure({ key: roomKey(room.room), kind: "room", name: room.room });
      entry.member = true;
      entry.policy = room.policy ?? entry.policy;
      entry.memberCount = room.member_count ?? entry.memberCount;
      listed.add(entry.key);
    }
    const complete = part >= parts;
    if (complete) for (const entry of this.all) if (entry.kind === "room" && !listed.has(entry.key)) entry.member = false;
    this.onChange();
    return complete;
  }

  /** The conversations to read back after a reconnect, each marked with how far: a direct conversation the server
   * lists a newer message of than this page holds; a room this page holds messages of (rooms list no newest key). */
  needingCatchUp(kind) {
    const behind = [];
    for (const entry of this.all.filter((one) => one.kind === kind)) {
      const held = entry.newestKey;
      const stale = entry.kind === "dm" ? entry.listedKey !== null && (held === null || entry.listedKey > held) : entry.member && held !== null;
      if (!stale || entry.loading) continue;
      entry.catchUpTo = held ?? this.offlineSince;
      behind.push(entry);
    }
    return behind;
  }

  /** The history request to send for this conversation, or null while one is under way (pages of two requests
   * would interleave): `purpose` is "open" (the newest page), "older" (the page before the oldest read) or
   * "catch-up" (after a reconnect: newest first, back to what was held before). */
  startReading(entry, purpose, before = null) {
    if (entry.loading) return null;
    if (purpose === "older" && !entry.cursor) return null; // none read yet, or none older
    entry.loading = purpose;
    const about = entry.kind === "room" ? { room: entry.name } : { with: entry.name };
    const request = { action: "history", ...about, limit: HISTORY_PAGE };
    const cursor = purpose === "older" ? entry.cursor : before;
    return cursor ? { ...request, before: cursor } : request;
  }

  /** A history_end frame of this conversation, whose page's oldest message had `oldestKeyOfPage`: the request
   * to send next (a catch-up not back yet to what was held), else null. */
  pageEnded(entry, frame, oldestKeyOfPage) {
    const purpose = entry.loading;
    entry.loading = false;
    if (purpose === "catch-up") {
      if (frame.before && oldestKeyOfPage !== null && entry.catchUpTo !== null && oldestKeyOfPage > entry.catchUpTo) {
        return this.startReading(entry, "catch-up", frame.before);
      }
      entry.catchUpTo = null;
      return null;
    }
    entry.cursor = frame.before ?? null;
    return null;
  }

  /** A history request failed (history_unavailable, a closed connection; not_a_member for `only` that room):
   * nothing is being read any more. */
  readingFailed(only = null) {
    for (const entry of only ? [only] : this.all) {
      entry.loading = false;
      entry.catchUpTo = null;
    }
  }

  /** Member list of a room (room_members, part `part`: the first part starts the list afresh), and single changes
   * (presence, member_joined, member_left). */
  setMembers(entry, members, part = 1) {
    if (part === 1) entry.members = new Map();
    for (const member of members) {
      if (member?.user && typeof member.user.id === "string") entry.members.set(member.user.id, { user: member.user, online: Boolean(member.online) });
    }
    this.onChange();
  }

  memberJoined(entry, user) {
    if (!user || typeof user.id !== "string") return;
    const known = entry.members.get(user.id);
    entry.members.set(user.id, { user, online: known ? known.online : true });
    this.onChange();
  }

  memberLeft(entry, user) {
    if (!user || typeof user.id !== "string") return;
    entry.members.delete(user.id);
    this.onChange();
  }

  /** A presence frame: the user's dot, in every room they are listed in. Announcements of one user may arrive out
   * of order: one older than the newest seen (its `version`) changes nothing. */
  presence(user, online, version = null) {
    if (!user || typeof user.id !== "string") return;
    if (Number.isInteger(version)) {
      const newest = this.presenceVersions.get(user.id);
      if (newest !== undefined && version <= newest) return;
      this.presenceVersions.set(user.id, version);
    }
    for (const entry of this.all) {
      const member = entry.members.get(user.id);
      if (member) member.online = Boolean(online);
    }
    this.onChange();
  }
}
