// Browser client for the serverless chat: native ES modules, no build step, no dependencies.
// This module wires the page: what the connection, the pending messages and the conversation do is in
// connection.js, pending.js and conversation.js; the wire format is docs/asyncapi.yaml (protocol.js
// is this client's side of it).

import { copyText, selectContents } from "./clipboard.js";
import { ChatConnection } from "./connection.js";
import { ConversationView } from "./conversation.js";
import { excerpt, listIds } from "./format.js";
import { PendingMessages } from "./pending.js";
import {
  MAX_MESSAGE_BYTES,
  composeSendMessage,
  deliveryFailures,
  describeError,
  frameType,
  messageOrigin,
  parseFrame,
  recipientsOf,
  senderOf,
  userDeliveryFailures,
  utf8Length,
} from "./protocol.js";
import { loadPageConfig } from "./page-config.js";
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
};

class ChatPage {
  constructor() {
    this.ui = Object.fromEntries(Object.entries(ELEMENT_IDS).map(([name, id]) => [name, document.getElementById(id)]));
    const $ = (id) => document.getElementById(id);
    this.conversation = new ConversationView({ log: $("conversation-log"), list: $("message-list"), emptyNote: $("empty-note") });
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
    };
    if (Object.hasOwn(handlers, kind)) handlers[kind]();
    else this.conversation.addNotice("info", `The server sent a frame of a kind this page does not know (${excerpt(frame.type, 40)}).`);
  }

  onConnection(frame) {
    if (typeof frame.connection_id === "string" && frame.connection_id) this.connection.identify(frame.connection_id);
    // The user the server verified for this connection (its token), as the server names them.
    if (frame.user && typeof frame.user.name === "string") document.getElementById("signed-in-name").textContent = frame.user.name;
  }

  /** sendMessage's answer: the server's id for a pending message, which its copy and failures carry. */
  onAccepted(frame) {
    const entry = this.pending.accept(frame);
    if (!entry) return;
    this.conversation.identify(entry.item, frame.message_id);
    this.conversation.setStatus(entry.item, "accepted", "accepted");
  }

  onMessage(frame) {
    if (typeof frame.message !== "string") return;
    if (!this.pending.awaitsCopy(frame.message_id) && this.conversation.hasMessage(frame.message_id)) return; // shown
    const { fromMe, entry } = this.pending.confirm(frame, this.connection.connectionId);
    if (entry) {
      if (!this.connection.connectionId && typeof frame.sender_id === "string") this.connection.identify(frame.sender_id);
      this.conversation.confirmSent(entry.item, frame);
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
    const text = this.conversation.textOf(frame.message_id);
    const failures = this.people ? userDeliveryFailures(frame) : deliveryFailures(frame);
    for (const { id, why } of failures) {
      this.conversation.addNotice(
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
      this.conversation.markPartlyDelivered(frame.message_id, note);
    }
  }

  onError(frame) {
    const sentence = describeError(frame);
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
  }

  /** A stage with sign-in: the sign-in panel, and people addressed by username. Connects once signed in. */
  async startSignIn(auth) {
    this.signIn = new SignInPanel({
      auth,
      onSignedIn: () => this.connect(this.connection.url || this.ui.url.value),
      onSignedOut: () => {
        this.connection.disconnect();
        document.getElementById("signed-in-name").textContent = "";
      },
    });
    document.getElementById("recipients-label").textContent = "To (usernames)";
    document.getElementById("recipients-hint").textContent =
      "One username, or up to 20 separated by commas, spaces or new lines. Each gets it on every tab and device they have open.";
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
