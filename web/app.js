// Browser client for the serverless chat: native ES modules, no build step, no dependencies.
// This module wires the page: what the connection, the pending messages and the conversation do is in
// connection.js, pending.js and conversation.js; the wire format is docs/asyncapi.yaml (protocol.js
// is this client's side of it).

import { copyText, selectContents } from "./clipboard.js";
import { ChatConnection } from "./connection.js";
import { ConversationView } from "./conversation.js";
import { Conversations, conversationOfPage, conversationsOf, directKey, roomKey, sentKeyOf } from "./conversations.js";
import { h } from "./dom.js";
import { excerpt, listIds } from "./format.js";
import { PendingMessages, ROOM_SEND_ERRORS } from "./pending.js";
import {
  MAX_MESSAGE_BYTES,
  ROOM,
  composeSendMessage,
  deliveryFailures,
  describeError,
  frameType,
  messageOrigin,
  parseFrame,
  recipientsOf,
  roomActionFrame,
  senderOf,
  userDeliveryFailures,
  utf8Length,
} from "./protocol.js";
import { loadPageConfig } from "./page-config.js";
import { Sidebar } from "./sidebar.js";
import { SignInPanel } from "./sign-in.js";
import { defaultSocketUrl, pageLocationFor, withToken } from "./urls.js";

const ELEMENT_IDS = {
  status: "status",
  reconnect: "reconnect-button",
  connectForm: "connect-form",
  url: "url-input",
  disconnect: "disconnect-button",
  urlFeedback: "url-feedback",
  connectionId: "connection-id",
  connectionIdPlaceholder: "connection-id-placeholder",
  copy: "copy-id-button",
  changeUrl: "change-url-button",
  copyFeedback: "copy-feedback",
  composeForm: "compose-form",
  recipients: "recipients-input",
  message: "message-input",
  byteCount: "byte-count",
  feedback: "compose-feedback",
  log: "conversation-log",
  emptyNote: "empty-note",
  heading: "conversation-heading",
  older: "older-button",
  historyStart: "history-start",
  leaveRoom: "leave-room-button",
  joinRoomForm: "join-room-form",
  room: "room-input",
  roomFeedback: "room-feedback",
};
// Errors about rooms and history requests: they concern no pending message (unless they name one).
const ROOM_ERRORS = [...ROOM_SEND_ERRORS, "invite_only", "room_full", "too_many_rooms", "already_a_member"];
const HISTORY_ERRORS = ["history_unavailable", "invalid_cursor"];

class ChatPage {
  constructor() {
    this.ui = Object.fromEntries(Object.entries(ELEMENT_IDS).map(([name, id]) => [name, document.getElementById(id)]));
    const $ = (id) => document.getElementById(id);
    /** The one list of a stage without sign-in (and of a signed-in page until a conversation opens). */
    this.defaultView = new ConversationView({ log: $("conversation-log"), list: $("message-list"), emptyNote: $("empty-note") });
    /** The list shown: the open conversation's. */
    this.conversation = this.defaultView;
    /** On a stage with sign-in: conversation key -> its list (web/conversations.js keys). */
    this.views = new Map();
    this.conversations = new Conversations({ onChange: () => this.sidebar?.render(this.conversations) });
    this.sidebar = null;
    /** The signed-in user {id, name} as the connection frame names them. */
    this.me = null;
    /** Connections this page opened that got their id: a later one fetches what was missed meanwhile. */
    this.connectionsIdentified = 0;
    this.roomsAvailable = true;
    this.joining = null; // the room key this page asked to join
    this.connection = new ChatConnection({
      onStatus: (kind, text) => this.showStatus(kind, text),
      onIdentity: (id, live) => this.showConnectionId(id, live),
      onFrame: (data) => this.handleFrame(data),
      onEnded: (why) => this.connectionEnded(why),
      // On a stage with sign-in, every connect opens with the ID token as it is then.
      socketUrl: (url) => withToken(url, this.signIn?.idToken),
    });
    /** The sign-in panel on a stage with sign-in (config.json), else null: the page then chats as it always has. */
    this.signIn = null;
    this.pending = new PendingMessages({
      onOverdue: (entry) => this.conversation.setStatus(entry.item, "unconfirmed", "no confirmation yet"),
    });
  }

  // --- status and identity ---------------------------------------------------------------

  showStatus(kind, text) {
    const { status, disconnect, reconnect } = this.ui;
    status.dataset.state = kind;
    status.textContent = text;
    // Small windows fold the URL form once connected (style.css), leaving the conversation the room.
    document.body.dataset.connection = kind;
    const live = kind === "connecting" || kind === "open";
    disconnect.disabled = !live;
    reconnect.hidden = live || !this.connection.url;
  }

  showConnectionId(id, live) {
    const { connectionId, connectionIdPlaceholder: placeholder, copy, copyFeedback } = this.ui;
    connectionId.textContent = id || "";
    connectionId.dataset.live = String(Boolean(id && live));
    placeholder.hidden = Boolean(id) && live;
    placeholder.textContent = id ? "(no longer connected)" : "not known yet";
    copy.disabled = !id;
    copyFeedback.textContent = "";
  }

  /** People are addressed by username on a stage with sign-in, by connection id elsewhere. */
  get people() {
    return this.signIn !== null;
  }

  async connect(rawUrl) {
    if (this.signIn && !(await this.signIn.currentToken())) {
      this.showStatus("idle", "Not connected: sign in to chat.");
      return;
    }
    const { url, error } = this.connection.connect(rawUrl);
    const input = this.ui.url;
    this.ui.urlFeedback.textContent = error || "";
    if (error) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    input.removeAttribute("aria-invalid");
    input.value = url;
    // The address bar's ?url= follows, so reloading reconnects to the same place.
    const next = pageLocationFor(window.location.href, url, this.pageConfig);
    if (next !== `${window.location.pathname}${window.location.search}`) window.history.replaceState(null, "", next);
  }

  // --- frames from the server ----------------------------------------------------------------

  handleFrame(data) {
    const frame = parseFrame(data);
    if (!frame) {
      this.conversation.addNotice("error", `The server sent something this page cannot read: ${excerpt(data, 120)}`);
      return;
    }
    const kind = frameType(frame);
    const handlers = {
      connection: () => this.onConnection(frame),
      accepted: () => this.onAccepted(frame),
      message: () => this.onMessage(frame),
      delivery_failed: () => this.onDeliveryFailed(frame),
      error: () => this.onError(frame),
      gateway_error: () => this.onError({ code: "gateway_error", message: frame.message }),
      conversations: () => {
        this.conversations.listConversations(frame);
        if (frame.more === false) this.catchUp("dm");
      },
      rooms: () => {
        if (this.conversations.listRooms(frame)) this.catchUp("room");
      },
      history: () => this.onHistoryPage(frame),
      history_end: () => this.onHistoryEnd(frame),
      room_members: () => this.onRoomMembers(frame),
      member_joined: () => this.onMemberJoined(frame),
      member_left: () => this.onMemberLeft(frame),
      presence: () => this.conversations.presence(frame.user, frame.online, frame.version),
    };
    if (Object.hasOwn(handlers, kind)) handlers[kind]();
    else if (kind.endsWith("_requested")) return; // a request's route response: its answer follows
    else this.conversation.addNotice("info", `The server sent a frame of a kind this page does not know (${excerpt(frame.type, 40)}).`);
  }

  onConnection(frame) {
    if (typeof frame.connection_id === "string" && frame.connection_id) this.connection.identify(frame.connection_id);
    // The user the server verified for this connection (its token), as the server names them.
    if (frame.user && typeof frame.user.name === "string") document.getElementById("signed-in-name").textContent = frame.user.name;
    if (frame.user && typeof frame.user.id === "string") this.me = { id: frame.user.id, name: frame.user.name };
    this.connectionsIdentified += 1;
    if (this.people) {
      // What this user has; after a reconnect, each list's answer starts reading back what was missed meanwhile.
      this.sendQuietly({ action: "listConversations" });
      if (this.roomsAvailable) this.sendQuietly({ action: "listRooms" });
    }
  }

  /** sendMessage's answer: the server's id for a pending message, which its copy and failures carry. */
  onAccepted(frame) {
    const entry = this.pending.accept(frame);
    if (!entry) return;
    const view = this.viewOf(entry.item);
    view.identify(entry.item, frame.message_id);
    view.setStatus(entry.item, "accepted", "accepted");
  }

  onMessage(frame) {
    if (typeof frame.message !== "string") return;
    if (this.people && conversationsOf(frame, this.me ?? this.signIn?.user).length) {
      this.placeMessage(frame, { live: true });
      return;
    }
    if (!this.pending.awaitsCopy(frame.message_id) && this.conversation.hasMessage(frame.message_id)) return; // shown
    const { fromMe, entry } = this.pending.confirm(frame, this.connection.connectionId);
    if (entry) {
      if (!this.connection.connectionId && typeof frame.sender_id === "string") this.connection.identify(frame.sender_id);
      this.viewOf(entry.item).confirmSent(entry.item, frame);
      return;
    }
    // Sent by this user from another tab or device: the same user id, another connection.
    const { user: sender } = senderOf(frame);
    const elsewhere = !fromMe && messageOrigin(frame, { userId: this.signIn?.user?.id }) === "elsewhere";
    const mine = fromMe || elsewhere;
    this.conversation.addMessage({
      kind: mine ? "sent" : "received",
      status: mine ? "sent" : "received",
      message: frame.message,
      senderId: frame.sender_id,
      senderName: sender?.name ?? null,
      recipients: recipientsOf(frame),
      sentAt: frame.sent_at,
      messageId: frame.message_id,
      ownId: Array.isArray(frame.recipient_users) ? this.ownName() : this.connection.connectionId,
      onReply: (to) => this.replyTo(to),
      elsewhere,
    });
  }

  /** The signed-in user's name as the connection frame gave it (the token's, until it arrives). */
  ownName() {
    return document.getElementById("signed-in-name").textContent || this.signIn?.user?.name || null;
  }

  onDeliveryFailed(frame) {
    const view = this.viewWithMessage(frame.message_id);
    const text = view.textOf(frame.message_id);
    if (frame.reason === "not_stored") {
      // A room message delivered to whoever is online, but not kept: members away now will not see it.
      view.markPartlyDelivered(frame.message_id, typeof frame.note === "string" ? frame.note : "Not stored.");
      return;
    }
    const failures = this.people ? userDeliveryFailures(frame) : deliveryFailures(frame);
    for (const { id, why } of failures) {
      view.addNotice(
        "failure",
        `Recipient ${id} ${why}: the message was not delivered to them.`,
        text === null ? null : `Message: “${excerpt(text)}”`,
        { messageId: frame.message_id, recipientId: id },
      );
    }
    if (frame.message_id && failures.length) {
      const note = this.people
        ? `Not delivered to ${listIds(failures.map(({ id }) => id))} (not connected).`
        : `Not delivered to ${listIds(recipientsOf(frame))} (not reachable).`;
      view.markPartlyDelivered(frame.message_id, note);
    }
  }

  onError(frame) {
    const sentence = describeError(frame);
    if (frame.code === "unknown_action" && Array.isArray(frame.valid_actions) && !frame.valid_actions.includes("listRooms")) {
      this.noRooms(); // a stage without rooms yet answered this page's own listRooms
      return;
    }
    if (ROOM_ERRORS.includes(frame.code) && typeof frame.message_id === "string") {
      // The fan-out refused a message it had accepted (not a member): that message was not sent.
      const entry = this.pending.withdraw(frame.message_id);
      const item = entry?.item ?? this.viewWithMessage(frame.message_id).itemOf(frame.message_id);
      if (item) this.viewOf(item).setStatus(item, "not-sent", "not sent", sentence);
      if (entry) this.offerPutBack(entry);
      this.conversation.addNotice("error", sentence, null, { code: frame.code });
      return;
    }
    if (ROOM_ERRORS.includes(frame.code) && !frame.client_message_id) {
      // It may answer this page's history or roomMembers request of that room: nothing is being read of it now.
      const room = typeof frame.room === "string" ? this.conversations.get(roomKey(frame.room)) : null;
      if (room) this.conversations.readingFailed(room);
      this.joining = null;
      this.ui.roomFeedback.textContent = sentence;
      return;
    }
    if (HISTORY_ERRORS.includes(frame.code)) this.conversations.readingFailed();
    const entry = this.pending.refuse(frame);
    if (!entry) {
      this.conversation.addNotice("error", sentence, null, { code: frame.code });
      return;
    }
    this.markNotSent(entry, sentence);
    this.conversation.addNotice("error", sentence, `Message: “${excerpt(entry.message)}”`, { code: frame.code });
    // API Gateway checked the token only when this connection opened: a new one carries the renewed token.
    if (frame.code === "token_expired" && this.signIn) this.signIn.session.renew().then(() => this.connect(this.connection.url));
  }

  // --- messages that were not confirmed ------------------------------------------------------

  markNotSent(entry, why) {
    this.conversation.setStatus(entry.item, "not-sent", "not sent", why);
    this.offerPutBack(entry);
    // Nothing typed is lost: an empty message box gets the refused text back at once.
    if (!this.ui.message.value.trim()) {
      this.putBack(entry);
      this.showFeedback(`Not sent. ${why} Your message is back in the message box.`);
    } else {
      this.showFeedback(`Not sent. ${why} Use “Put back in the message box” on it to edit it and send again.`);
    }
  }

  offerPutBack(entry) {
    this.conversation.offerPutBack(entry.item, () => {
      this.putBack(entry);
      this.ui.message.focus();
    });
  }

  putBack(entry) {
    this.ui.message.value = entry.message;
    if (!this.ui.recipients.value.trim()) this.ui.recipients.value = entry.recipients.join(", ");
    this.updateByteCount();
  }

  /** The connection is over: whatever is still unconfirmed may never be delivered. */
  connectionEnded(why) {
    // Messages from others sent from now on are new to this page (unread), whichever conversation they are in.
    this.conversations.offlineSince = new Date().toISOString();
    this.conversations.readingFailed();
    for (const entry of this.pending.drain()) {
      this.conversation.setStatus(entry.item, "unconfirmed", "unconfirmed", why);
      this.offerPutBack(entry);
    }
  }

  // --- sending ------------------------------------------------------------------------------

  replyTo(senderId) {
    this.ui.recipients.value = senderId;
    this.ui.message.focus();
  }

  showFeedback(text, field = null) {
    this.ui.feedback.textContent = text;
    for (const input of [this.ui.recipients, this.ui.message]) {
      if (input === field) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    if (field) field.focus();
  }

  send() {
    const message = this.ui.message.value;
    const composed = composeSendMessage(message, this.ui.recipients.value, undefined, { people: this.people });
    if (composed.problem) {
      this.showFeedback(composed.problem, this.ui[composed.field]);
      return;
    }
    if (this.people) {
      // Writing to someone (or in a room) is being in that conversation: its list shows the message.
      const [first] = composed.recipients;
      const key = composed.room ? roomKey(composed.room) : directKey(first);
      const target = { kind: composed.room ? "room" : "dm", name: composed.room ?? first };
      if (this.conversations.openKey !== key) this.openConversation(key, target, { address: false });
    }
    try {
      this.connection.send(JSON.stringify(composed.frame));
    } catch (failure) {
      this.showFeedback(`Not sent: ${failure.message}. Your message is still in the box.`);
      return;
    }
    const { recipients, clientMessageId } = composed;
    const ownId = this.connection.connectionId;
    const item = this.conversation.addMessage({
      kind: "sent",
      status: "pending",
      message,
      senderId: ownId,
      recipients,
      sentAt: new Date().toISOString(),
      ownId: this.people ? this.ownName() : ownId,
    });
    this.pending.add({ message, recipients, clientMessageId, item });
    // Only now, with the frame handed to the socket, is the typed text cleared.
    this.ui.message.value = "";
    this.updateByteCount();
    this.showFeedback("");
  }

  updateByteCount() {
    const size = utf8Length(this.ui.message.value);
    this.ui.byteCount.textContent = size > MAX_MESSAGE_BYTES * 0.8 ? `${size} of ${MAX_MESSAGE_BYTES} bytes.` : "";
  }

  async copyConnectionId() {
    const id = this.connection.connectionId || this.ui.connectionId.textContent;
    if (!id) return;
    if (await copyText(id, this.ui.copy)) {
      this.ui.copyFeedback.textContent = "Copied.";
      return;
    }
    selectContents(this.ui.connectionId);
    this.ui.copyFeedback.textContent = "Could not copy by itself: the id is selected, press Ctrl+C (⌘+C on a Mac).";
  }

  // --- wiring -------------------------------------------------------------------------------

  wire() {
    const { ui } = this;
    const submitOnEnter = (event) => {
      if (event.key !== "Enter" || event.isComposing || event.shiftKey || event.altKey) return;
      event.preventDefault();
      this.send();
    };
    const onSubmit = (form, action) =>
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        action();
      });
    onSubmit(ui.connectForm, () => this.connect(ui.url.value));
    onSubmit(ui.composeForm, () => this.send());
    ui.disconnect.addEventListener("click", () => this.connection.disconnect());
    // A deployed page may connect only to its own stage (its Content-Security-Policy, cdk/web_config.py).
    document.addEventListener("securitypolicyviolation", (event) => {
      if (event.effectiveDirective === "connect-src") {
        this.connection.refuse("Refused by this page's security policy: it connects only to its own stage");
      }
    });
    ui.reconnect.addEventListener("click", () => this.connect(this.connection.url || ui.url.value));
    ui.copy.addEventListener("click", () => this.copyConnectionId());
    ui.changeUrl.addEventListener("click", () => {
      const unfolded = ui.connectForm.classList.toggle("unfolded");
      ui.changeUrl.setAttribute("aria-expanded", String(unfolded));
      if (unfolded) ui.url.focus();
    });
    ui.message.addEventListener("keydown", submitOnEnter);
    ui.recipients.addEventListener("keydown", submitOnEnter);
    ui.message.addEventListener("input", () => {
      this.updateByteCount();
      if (ui.feedback.textContent) this.showFeedback("");
    });
    ui.recipients.addEventListener("input", () => ui.recipients.removeAttribute("aria-invalid"));
    ui.url.addEventListener("input", () => {
      ui.url.removeAttribute("aria-invalid");
      ui.urlFeedback.textContent = "";
    });
    ui.older.addEventListener("click", () => this.readOlder());
    // Scrolling up to the top of a conversation reads the page before it (not the page's own scrolling down).
    let lastTop = 0;
    ui.log.addEventListener("scroll", () => {
      const top = ui.log.scrollTop;
      if (this.people && top < 24 && top < lastTop) this.readOlder();
      lastTop = top;
    });
    onSubmit(ui.joinRoomForm, () => this.joinRoom(ui.room.value));
    ui.leaveRoom.addEventListener("click", () => this.leaveOpenRoom());
  }

  // --- conversations and rooms (a stage with sign-in) ------------------------------------------

  /** Sends a frame the page asks for itself (lists, history), when connected; nothing to tell the reader if not:
   * the next connection asks again. */
  sendQuietly(frame) {
    if (this.connection.isOpen) this.connection.send(JSON.stringify(frame));
  }

  get allViews() {
    return [this.defaultView, ...this.views.values()];
  }

  viewOf(item) {
    return this.allViews.find((view) => view.list.contains(item)) ?? this.conversation;
  }

  viewWithMessage(messageId) {
    return this.allViews.find((view) => view.itemOf(messageId)) ?? this.conversation;
  }

  /** The list of one conversation, made when first needed (hidden until opened). */
  viewFor(key) {
    let view = this.views.get(key);
    if (!view) {
      const list = h("ol", { className: "message-list", "data-testid": "message-list", dataset: { conversation: key }, hidden: true });
      this.ui.log.append(list);
      view = new ConversationView({ log: this.ui.log, list, emptyNote: this.ui.emptyNote });
      this.views.set(key, view);
    }
    return view;
  }

  /** Shows a conversation: its messages (the newest page read from its history the first time), its unread count
   * read, and (unless `address` is false: the reader already typed who to) the message box addressed to it. */
  openConversation(key, { kind, name }, { address = true } = {}) {
    const entry = this.conversations.open(key);
    const view = this.viewFor(key);
    for (const other of this.allViews) if (other !== view) other.hide();
    this.conversation = view;
    view.show();
    const room = (entry?.kind ?? kind) === "room";
    const shownName = entry?.name ?? name;
    this.ui.heading.textContent = room ? `Room #${shownName}` : `Conversation with ${shownName}`;
    if (address) this.ui.recipients.value = room ? `#${shownName}` : shownName;
    this.ui.leaveRoom.hidden = !(room && entry?.member);
    if (entry && entry.cursor === undefined) this.readHistory(entry, "open");
    if (room && entry?.member) this.sendQuietly(roomActionFrame("roomMembers", entry.name));
    this.updateHistoryControls();
  }

  readHistory(entry, purpose) {
    const request = this.conversations.startReading(entry, purpose);
    if (request) this.sendQuietly(request);
    this.updateHistoryControls();
  }

  readOlder() {
    const entry = this.conversations.get(this.conversations.openKey);
    if (entry && typeof entry.cursor === "string") this.readHistory(entry, "older");
  }

  updateHistoryControls() {
    const entry = this.conversations.get(this.conversations.openKey);
    this.ui.older.hidden = !(entry && typeof entry.cursor === "string");
    this.ui.older.disabled = Boolean(entry?.loading);
    this.ui.historyStart.hidden = !(entry && entry.cursor === null);
  }

  /** After a reconnect: each conversation of this `kind` with messages this page has not seen is read back from
   * its newest message to the newest this page held (in order, once each: the lists de-duplicate by message_id). */
  catchUp(kind) {
    if (this.connectionsIdentified < 2) return; // the first connection: nothing was missed by this page
    for (const entry of this.conversations.needingCatchUp(kind)) this.readHistory(entry, "catch-up");
  }

  /** A message frame of a signed-in user, live or from a history page, in each conversation it belongs to. */
  placeMessage(frame, { live }) {
    const me = this.me ?? this.signIn?.user;
    const targets = conversationsOf(frame, me);
    const { user: sender } = senderOf(frame);
    const mine = Boolean(sender && me && sender.id === me.id);
    const { entry: pending } = live ? this.pending.confirm(frame, this.connection.connectionId) : { entry: null };
    for (const target of targets) {
      const entry = this.conversations.ensure(target);
      const view = this.viewFor(target.key);
      const fresh = this.conversations.addMessage(entry, frame, { fromOthers: !mine });
      if (pending && view.list.contains(pending.item)) {
        view.confirmSent(pending.item, frame);
        continue;
      }
      const shown = view.itemOf(frame.message_id);
      if (shown) {
        // Its echo was missed (the connection closed first): the stored copy confirms it.
        if (mine && shown.dataset.status !== "sent") view.confirmSent(shown, frame);
        continue;
      }
      if (fresh) view.addMessage(this.messageLine(frame, { mine, sender }));
      if (entry.key === this.conversations.openKey && entry.cursor === undefined) this.readHistory(entry, "open");
    }
    if (live && this.conversations.openKey === null && targets.length) this.openConversation(targets[0].key, targets[0]);
  }

  messageLine(frame, { mine, sender }) {
    const elsewhere = mine && frame.sender_id !== this.connection.connectionId;
    return {
      kind: mine ? "sent" : "received",
      status: mine ? "sent" : "received",
      message: frame.message,
      senderId: frame.sender_id,
      senderName: sender?.name ?? null,
      recipients: typeof frame.room === "string" ? [`#${frame.room}`] : recipientsOf(frame),
      sentAt: frame.sent_at,
      messageId: frame.message_id,
      ownId: this.ownName(),
      onReply: (to) => this.replyTo(to),
      elsewhere,
      sentKey: sentKeyOf(frame),
    };
  }

  onHistoryPage(frame) {
    const messages = Array.isArray(frame.messages) ? frame.messages : [];
    for (const message of messages) if (message && typeof message.message === "string") this.placeMessage(message, { live: false });
    const page = conversationOfPage(frame);
    const entry = page && this.conversations.get(page.key);
    if (!entry) return;
    const keys = messages.map(sentKeyOf).filter(Boolean);
    if (keys.length) entry.pageOldest = [entry.pageOldest, ...keys].filter(Boolean).sort()[0];
  }

  onHistoryEnd(frame) {
    const page = conversationOfPage(frame);
    const entry = page && this.conversations.get(page.key);
    if (!entry) return;
    const next = this.conversations.pageEnded(entry, frame, entry.pageOldest ?? null);
    entry.pageOldest = null;
    if (next) this.sendQuietly(next);
    this.updateHistoryControls();
  }

  joinRoom(name) {
    const room = String(name).trim().replace(/^#/, "");
    if (!ROOM.test(room)) {
      this.ui.roomFeedback.textContent = "A room's name is 1 to 64 letters, digits, '_' or '-'.";
      this.ui.room.setAttribute("aria-invalid", "true");
      this.ui.room.focus();
      return;
    }
    this.ui.room.removeAttribute("aria-invalid");
    this.joining = roomKey(room);
    this.ui.roomFeedback.textContent = `Joining #${room}…`;
    this.sendQuietly(roomActionFrame("joinRoom", room));
  }

  leaveOpenRoom() {
    const entry = this.conversations.get(this.conversations.openKey);
    if (entry?.kind === "room") this.sendQuietly(roomActionFrame("leaveRoom", entry.name));
  }

  isMe(user) {
    const me = this.me ?? this.signIn?.user;
    return Boolean(user && me && user.id === me.id);
  }

  onRoomMembers(frame) {
    if (typeof frame.room !== "string" || !Array.isArray(frame.members)) return;
    const entry = this.conversations.ensure({ key: roomKey(frame.room), kind: "room", name: frame.room });
    this.conversations.setMembers(entry, frame.members, Number.isInteger(frame.part) ? frame.part : 1);
  }

  onMemberJoined(frame) {
    if (typeof frame.room !== "string" || !frame.user) return;
    const entry = this.conversations.ensure({ key: roomKey(frame.room), kind: "room", name: frame.room });
    this.conversations.memberJoined(entry, frame.user);
    const invitedBy = frame.invited_by?.name ?? null;
    if (!frame.already_member) {
      this.viewFor(entry.key).addNotice("info", `${frame.user.name} joined #${entry.name}${invitedBy ? `, added by ${invitedBy}` : ""}.`);
    }
    if (!this.isMe(frame.user)) return;
    entry.member = true;
    if (this.joining === entry.key) {
      this.joining = null;
      this.ui.room.value = "";
      this.ui.roomFeedback.textContent = "";
      this.openConversation(entry.key, entry);
    }
    this.conversations.onChange();
  }

  onMemberLeft(frame) {
    if (typeof frame.room !== "string" || !frame.user) return;
    const entry = this.conversations.ensure({ key: roomKey(frame.room), kind: "room", name: frame.room });
    this.conversations.memberLeft(entry, frame.user);
    this.viewFor(entry.key).addNotice("info", `${this.isMe(frame.user) ? "You" : frame.user.name} left #${entry.name}.`);
    if (!this.isMe(frame.user)) return;
    entry.member = false;
    if (this.conversations.openKey === entry.key) this.ui.leaveRoom.hidden = true;
    this.conversations.onChange();
  }

  /** Signed out: nothing of this user's conversations stays on the page for the next one. */
  forgetConversations() {
    for (const view of this.views.values()) view.list.remove();
    this.views.clear();
    this.conversations = new Conversations({ onChange: () => this.sidebar?.render(this.conversations) });
    this.conversation = this.defaultView;
    this.defaultView.show();
    this.me = null;
    this.connectionsIdentified = 0;
    this.ui.heading.textContent = "Conversation";
    this.ui.leaveRoom.hidden = true;
    this.sidebar?.render(this.conversations);
    this.updateHistoryControls();
  }

  /** The stage has no rooms (an older deployment): the page offers none. */
  noRooms() {
    this.roomsAvailable = false;
    document.getElementById("rooms-section").hidden = true;
  }

  /** A stage with sign-in: the sign-in panel, and people addressed by username. Connects once signed in. */
  async startSignIn(auth) {
    this.signIn = new SignInPanel({
      auth,
      onSignedIn: () => this.connect(this.connection.url || this.ui.url.value),
      onSignedOut: () => {
        this.connection.disconnect();
        document.getElementById("signed-in-name").textContent = "";
        this.forgetConversations();
      },
    });
    document.getElementById("recipients-label").textContent = "To (usernames)";
    document.getElementById("recipients-hint").textContent =
      "One username, or up to 20 separated by commas, spaces or new lines, or one #room. Each gets it on every tab and device they have open.";
    const $ = (id) => document.getElementById(id);
    this.sidebar = new Sidebar({
      directList: $("direct-list"),
      directEmpty: $("direct-empty"),
      roomList: $("room-list"),
      memberList: $("member-list"),
      membersPanel: $("members-panel"),
      onOpen: (key) => this.openConversation(key, this.conversations.get(key)),
    });
    $("conversations-panel").hidden = false;
    document.body.dataset.people = "true";
    return this.signIn.start();
  }

  async start() {
    this.wire();
    // The stage this page was deployed with (config.json); none when served by another web server.
    this.pageConfig = await loadPageConfig();
    const initial = defaultSocketUrl(window.location, this.pageConfig);
    this.ui.url.value = initial;
    if (this.pageConfig?.auth?.type === "cognito") {
      // Connects when the user signs in (at once, when this tab kept a session).
      if (!(await this.startSignIn(this.pageConfig.auth))) this.showStatus("idle", "Not connected: sign in to chat.");
    } else if (new URLSearchParams(window.location.search).get("connect") === "0") {
      this.showStatus("idle", "Not connected. Check the URL and choose Connect.");
    } else {
      this.connect(initial);
    }
  }
}

function start() {
  new ChatPage().start();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
else start();
