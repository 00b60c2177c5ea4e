// Messages sent on the current connection and not yet confirmed, paired with the server's answers
// (accepted, the sender's own copy, error). No DOM: `item` is whatever the page shows for the message,
// and the timers are injected, so `node --test` (tests/web) covers the pairing.

import { recipientsOf, sameList } from "./protocol.js";

export const CONFIRMATION_TIMEOUT_MS = 20_000;
// Errors of a message to a room, which concern a pending message only when they name it (client_message_id): the
// same codes answer joinRoom, leaveRoom and roomMembers, which name none.
export const ROOM_SEND_ERRORS = ["invalid_room", "unknown_room", "not_a_member"];
// Error codes that answer a sendMessage frame (so they concern a pending message).
export const SEND_ERRORS = [
  "invalid_request",
  "not_sent",
  "invalid_json",
  "gateway_error",
  "unknown_user",
  "no_users",
  "token_expired",
  ...ROOM_SEND_ERRORS,
];

export class PendingMessages {
  #entries = [];

  /** `onOverdue(entry)`: no answer after `timeoutMs`; the entry stays pending. */
  constructor({ onOverdue = () => {}, timeoutMs = CONFIRMATION_TIMEOUT_MS, timers = globalThis } = {}) {
    this.onOverdue = onOverdue;
    this.timeoutMs = timeoutMs;
    this.timers = timers;
  }

  get size() {
    return this.#entries.length;
  }

  /** A message handed to the socket. */
  add({ message, recipients, clientMessageId, item }) {
    const entry = { message, recipients, clientMessageId, item, messageId: null, timer: null };
    entry.timer = this.timers.setTimeout(() => {
      if (this.#entries.includes(entry)) this.onOverdue(entry);
    }, this.timeoutMs);
    this.#entries.push(entry);
    return entry;
  }

  /** sendMessage's answer: the entry it names (by client_message_id), now knowing its message_id; else null. */
  accept(frame) {
    const entry = this.#entries.find((pending) => pending.clientMessageId === frame.client_message_id);
    if (!entry || typeof frame.message_id !== "string") return null;
    entry.messageId = frame.message_id;
    return entry;
  }

  /** Whether a pending message already known by this message_id still awaits its own copy. */
  awaitsCopy(messageId) {
    return this.#entries.some((entry) => entry.messageId && entry.messageId === messageId);
  }

  /** A message frame: {fromMe, entry}, entry being the pending message it is the sender's copy of
   * (removed from the pending ones), else null. The echoed client_message_id names it; a server
   * that does not echo it is matched by content. With no connection id known yet, a frame that
   * matches a pending message is taken as our own. */
  confirm(frame, ownId) {
    const index = frame.client_message_id
      ? this.#entries.findIndex((entry) => entry.clientMessageId === frame.client_message_id)
      : this.#entries.findIndex((entry) => entry.message === frame.message && sameList(entry.recipients, recipientsOf(frame)));
    const fromMe = ownId ? frame.sender_id === ownId : index >= 0;
    return { fromMe, entry: fromMe && index >= 0 ? this.#remove(index) : null };
  }

  /** An error frame: the pending message it refuses (removed), else null. The echoed
   * client_message_id names it; without one (an older server, or API Gateway's own error), the oldest. */
  refuse(frame) {
    if (!SEND_ERRORS.includes(frame.code)) return null;
    if (ROOM_SEND_ERRORS.includes(frame.code) && !frame.client_message_id) return null;
    const index = frame.client_message_id
      ? this.#entries.findIndex((entry) => entry.clientMessageId === frame.client_message_id)
      : 0;
    return index >= 0 && index < this.#entries.length ? this.#remove(index) : null;
  }

  /** The pending message the server accepted as `messageId` (removed), else null: refused after all. */
  withdraw(messageId) {
    const index = this.#entries.findIndex((entry) => entry.messageId && entry.messageId === messageId);
    return index >= 0 ? this.#remove(index) : null;
  }

  /** The connection ended: every message still pending, removed. */
  drain() {
    const entries = this.#entries.splice(0);
    for (const entry of entries) this.timers.clearTimeout(entry.timer);
    return entries;
  }

  #remove(index) {
    const [entry] = this.#entries.splice(index, 1);
    this.timers.clearTimeout(entry.timer);
    return entry;
  }
}
