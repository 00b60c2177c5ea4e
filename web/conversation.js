// One conversation's messages: sent and received, their delivery state, and notices. On a stage with sign-in the
// page has one per direct conversation and room (each its own list, shown one at a time); messages are kept in
// the order they were sent (by their sort key, `<sent_at>#<message_id>`), so pages of history read later, and
// messages fetched after a reconnect, take their places among those already shown.

import { h, timeElement } from "./dom.js";
import { recipientsLine } from "./format.js";

const NOTICE_LABELS = { failure: "Delivery failed", error: "Error", info: "Note" };

export class ConversationView {
  constructor({ log, list, emptyNote }) {
    this.log = log;
    this.list = list;
    this.emptyNote = emptyNote;
    /** message_id → list item, to attach delivery failures to the message they concern. */
    this.byMessageId = new Map();
    this.following = true;
    // Lines also grow after they are added (a delivery note, a confirmation): keep following them.
    if (typeof ResizeObserver === "function") new ResizeObserver(() => this.follow()).observe(list);
    log.addEventListener("scroll", () => {
      if (!this.list.hidden) this.following = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    });
  }

  get isEmpty() {
    return this.list.childElementCount === 0;
  }

  /** Shows this conversation's list in the log (the page hides the others). */
  show() {
    this.list.hidden = false;
    this.emptyNote.hidden = !this.isEmpty;
    this.following = true;
    this.follow();
  }

  hide() {
    this.list.hidden = true;
  }

  /** The list item of a shown message, or null. */
  itemOf(messageId) {
    return (messageId && this.byMessageId.get(messageId)) || null;
  }

  hasMessage(messageId) {
    return Boolean(messageId) && this.byMessageId.has(messageId);
  }

  /** The text of the message with this id, or null when it is not shown. */
  textOf(messageId) {
    const item = messageId ? this.byMessageId.get(messageId) : undefined;
    return item ? item.querySelector("[data-testid=message-text]").textContent : null;
  }

  /** Keeps the newest line in view unless the reader has scrolled up to read older ones. */
  follow() {
    if (this.following && !this.list.hidden) this.log.scrollTop = this.log.scrollHeight;
  }

  /** `senderName`: the sender's username on a stage with sign-in (else the connection id names them); `ownId`: what
   * names the reader among the recipients (their connection id, or their username); `elsewhere`: sent by the
   * reader from another tab or device; `sentKey`: its place among the others (none: last). */
  addMessage({ kind, status, message, senderId, senderName = null, recipients, sentAt, messageId, ownId, onReply, elsewhere = false, sentKey = null }) {
    const mine = kind === "sent";
    const actions = h("div", { className: "msg-actions" });
    const replyTo = senderName ?? senderId;
    if (!mine && typeof replyTo === "string") {
      actions.append(
        h(
          "button",
          { type: "button", className: "small", "data-testid": "reply-button", onclick: () => onReply(replyTo) },
          "Reply",
          h("span", { className: "visually-hidden" }, ` to ${replyTo}`),
        ),
      );
    }
    const senderTitle = elsewhere ? `You, from another tab or device (connection ${senderId})` : senderId || "";
    const item = h(
      "li",
      {
        className: `msg msg-${kind}`,
        "data-testid": "message-item",
        dataset: { kind, status, messageId: messageId || "", origin: elsewhere ? "elsewhere" : "", sentKey: sentKey || "" },
      },
      h(
        "p",
        { className: "msg-meta" },
        h(
          "span",
          { className: "msg-sender", "data-testid": "message-sender", title: senderTitle },
          mine ? "You" : `From ${replyTo ?? "(unknown sender)"}`,
        ),
        " ",
        h("span", { className: "msg-recipients", "data-testid": "message-recipients" }, recipientsLine(recipients, ownId, mine)),
        " · ",
        timeElement(sentAt),
        h("span", { className: "msg-state", "data-testid": "message-state" }, status === "pending" ? " · sending…" : ""),
      ),
      h("p", { className: "msg-text", "data-testid": "message-text" }, message),
      h("p", { className: "msg-delivery", "data-testid": "message-delivery", hidden: true }),
      actions,
    );
    if (messageId) this.byMessageId.set(messageId, item);
    this.#insert(item, sentKey);
    return item;
  }

  /** A sent message's id is known (the accepted frame, or its echo): failures can find it. */
  identify(item, messageId) {
    if (!messageId) return;
    item.dataset.messageId = messageId;
    this.byMessageId.set(messageId, item);
  }

  /** The sender's own copy arrived: the message is sent, at the server's time. */
  confirmSent(item, frame) {
    item.dataset.status = "sent";
    this.identify(item, frame.message_id);
    if (frame.sent_at && frame.message_id) {
      // Its place is the server's time for it: two messages sent at once may have been taken in either order.
      item.dataset.sentKey = `${frame.sent_at}#${frame.message_id}`;
      const later = this.#firstAfter(item.dataset.sentKey, item);
      if (later && later !== item.nextElementSibling) this.list.insertBefore(item, later);
    }
    item.querySelector("[data-testid=message-time]").replaceWith(timeElement(frame.sent_at));
    item.querySelector("[data-testid=message-state]").textContent = "";
    item.querySelector(".msg-sender").title = frame.sender_id || "";
  }

  /** Marks a sent message with a state ("not-sent", "unconfirmed") and, optionally, why. */
  setStatus(item, status, label, why = null) {
    item.dataset.status = status;
    item.querySelector("[data-testid=message-state]").textContent = ` · ${label}`;
    if (why !== null) this.#noteDelivery(item, why);
  }

  /** Some recipients of a shown message were not reached. */
  markPartlyDelivered(messageId, text) {
    const item = this.byMessageId.get(messageId);
    if (!item) return;
    this.#noteDelivery(item, text);
    item.dataset.delivery = "partial";
  }

  /** Offers to put a message that was not sent back in the message box (once per message). */
  offerPutBack(item, putBack) {
    const actions = item.querySelector(".msg-actions");
    if (actions.querySelector("[data-testid=put-back-button]")) return;
    actions.append(
      h(
        "button",
        { type: "button", className: "small", "data-testid": "put-back-button", onclick: putBack },
        "Put back in the message box",
      ),
    );
  }

  /** A line in the conversation that is not a chat message: failures, errors, notes. */
  addNotice(kind, text, detail = null, extra = {}) {
    const item = h(
      "li",
      {
        className: `msg msg-notice msg-${kind}`,
        "data-testid": "message-item",
        dataset: { kind, messageId: extra.messageId || "", recipientId: extra.recipientId || "", code: extra.code || "" },
      },
      h(
        "p",
        { className: "msg-meta" },
        h("strong", { className: "msg-label" }, NOTICE_LABELS[kind] || "Note"),
        " · ",
        timeElement(new Date().toISOString()),
      ),
      h("p", { className: "msg-text", "data-testid": "message-text" }, text),
      detail ? h("p", { className: "msg-detail" }, detail) : null,
    );
    this.#append(item);
    return item;
  }

  #noteDelivery(item, text) {
    const note = item.querySelector("[data-testid=message-delivery]");
    note.hidden = false;
    note.textContent = text;
  }

  #append(item) {
    if (!this.list.hidden) this.emptyNote.hidden = true;
    this.list.append(item);
    this.follow();
  }

  /** Before the first message sent after it; last when none was (or it has no key). An older message read while
   * the reader is up the list leaves what they read where it was. */
  /** The first message sent after `sentKey` (other than `item`), or undefined. */
  #firstAfter(sentKey, item = null) {
    return [...this.list.children].find((other) => other !== item && other.dataset.sentKey && other.dataset.sentKey > sentKey);
  }

  #insert(item, sentKey) {
    const later = sentKey ? this.#firstAfter(sentKey) : undefined;
    if (!later) {
      this.#append(item);
      return;
    }
    const fromBottom = this.log.scrollHeight - this.log.scrollTop;
    if (!this.list.hidden) this.emptyNote.hidden = true;
    this.list.insertBefore(item, later);
    if (!this.following && !this.list.hidden) this.log.scrollTop = this.log.scrollHeight - fromBottom;
  }
}
