// Browser client for the serverless chat: native ES modules, no build step, no dependencies.
// This module wires the page: the socket, the frames it receives, the compose box and the copy button.
// The wire format is described once, in the README; protocol.js is this client's side of it.

import { ConversationView } from "./conversation.js";
import { h } from "./dom.js";
import { excerpt, listIds } from "./format.js";
import {
  MAX_MESSAGE_BYTES,
  MAX_RECIPIENTS,
  deliveryFailures,
  describeClose,
  describeError,
  frameType,
  newClientMessageId,
  outgoingProblem,
  parseFrame,
  parseRecipients,
  recipientsOf,
  sameList,
  sendMessageFrame,
  utf8Length,
} from "./protocol.js";
import { defaultSocketUrl, normalizeSocketUrl, pageLocationFor } from "./urls.js";

const CONFIRMATION_TIMEOUT_MS = 20_000;
// Error codes that answer a sendMessage frame (so they concern a pending message).
const SEND_ERRORS = ["invalid_request", "not_sent", "invalid_json", "gateway_error"];

function start() {
  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"),
    reconnect: $("reconnect-button"),
    connectForm: $("connect-form"),
    url: $("url-input"),
    disconnect: $("disconnect-button"),
    urlFeedback: $("url-feedback"),
    connectionId: $("connection-id"),
    connectionIdPlaceholder: $("connection-id-placeholder"),
    copy: $("copy-id-button"),
    copyFeedback: $("copy-feedback"),
    composeForm: $("compose-form"),
    recipients: $("recipients-input"),
    message: $("message-input"),
    byteCount: $("byte-count"),
    feedback: $("compose-feedback"),
  };
  const conversation = new ConversationView({ log: $("conversation-log"), list: $("message-list"), emptyNote: $("empty-note") });

  const state = {
    ws: null,
    url: null,
    connectionId: null,
    /** Messages sent on the current connection and not yet confirmed by their echo or refused. */
    pending: [],
  };

  // --- status and identity ---------------------------------------------------------------

  function setStatus(kind, text) {
    ui.status.dataset.state = kind;
    ui.status.textContent = text;
    const live = kind === "connecting" || kind === "open";
    ui.disconnect.disabled = !live;
    ui.reconnect.hidden = live || !state.url;
  }

  function showConnectionId(id, { live }) {
    ui.connectionId.textContent = id || "";
    ui.connectionId.dataset.live = String(Boolean(id && live));
    ui.connectionIdPlaceholder.hidden = Boolean(id);
    ui.connectionIdPlaceholder.textContent = "not known yet";
    ui.copy.disabled = !id;
    if (id && !live) {
      ui.connectionIdPlaceholder.hidden = false;
      ui.connectionIdPlaceholder.textContent = "(no longer connected)";
    }
    ui.copyFeedback.textContent = "";
  }

  // --- connecting ---------------------------------------------------------------------------

  function connect(rawUrl) {
    const { url, error } = normalizeSocketUrl(rawUrl);
    if (error) {
      ui.urlFeedback.textContent = error;
      ui.url.setAttribute("aria-invalid", "true");
      ui.url.focus();
      return;
    }
    ui.urlFeedback.textContent = "";
    ui.url.removeAttribute("aria-invalid");
    ui.url.value = url;
    if (state.ws) {
      const previous = state.ws;
      state.ws = null; // its events are ignored from now on
      previous.close(1000, "reconnecting");
      connectionEnded("The previous connection was closed to connect again.");
    }
    rememberUrl(url);
    state.url = url;
    state.connectionId = null;
    showConnectionId(null, { live: false });
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (problem) {
      setStatus("closed", `Could not connect to ${url}: ${problem.message}`);
      return;
    }
    state.ws = ws;
    setStatus("connecting", `Connecting to ${url}…`);
    ws.addEventListener("open", () => {
      if (ws !== state.ws) return;
      setStatus("open", `Connected to ${url}; waiting for your connection id…`);
    });
    ws.addEventListener("message", (event) => {
      if (ws !== state.ws) return;
      handleFrame(event.data);
    });
    ws.addEventListener("close", (event) => {
      if (ws !== state.ws) return;
      state.ws = null;
      setStatus("closed", `${describeClose(event.code, event.reason)} (${url})`);
      showConnectionId(state.connectionId, { live: false });
      connectionEnded(
        "The connection closed before the server confirmed this message; it may not have been delivered.",
      );
    });
  }

  function disconnect() {
    if (state.ws) state.ws.close(1000, "closed by the user");
  }

  /** Keeps the address bar's ?url= in step, so reloading reconnects to the same place. */
  function rememberUrl(url) {
    const next = pageLocationFor(window.location.href, url);
    if (next !== `${window.location.pathname}${window.location.search}`) window.history.replaceState(null, "", next);
  }

  // --- frames from the server ----------------------------------------------------------------

  function handleFrame(data) {
    const frame = parseFrame(data);
    if (!frame) {
      conversation.addNotice("error", `The server sent something this page cannot read: ${excerpt(data, 120)}`);
      return;
    }
    switch (frameType(frame)) {
      case "connection":
        onConnection(frame);
        break;
      case "accepted":
        onAccepted(frame);
        break;
      case "message":
        onMessage(frame);
        break;
      case "delivery_failed":
        onDeliveryFailed(frame);
        break;
      case "error":
        onError(frame);
        break;
      case "gateway_error":
        onError({ code: "gateway_error", message: frame.message });
        break;
      default:
        conversation.addNotice(
          "info",
          `The server sent a frame of a kind this page does not know (${excerpt(frame.type, 40)}).`,
        );
    }
  }

  function onConnection(frame) {
    if (typeof frame.connection_id !== "string" || !frame.connection_id) return;
    state.connectionId = frame.connection_id;
    showConnectionId(state.connectionId, { live: true });
    setStatus("open", `Connected to ${state.url}.`);
  }

  /** sendMessage's answer: the server's id for a pending message, which its echo and failures carry. */
  function onAccepted(frame) {
    const entry = state.pending.find((pending) => pending.clientMessageId === frame.client_message_id);
    if (!entry || typeof frame.message_id !== "string") return;
    entry.messageId = frame.message_id;
    conversation.identify(entry.item, frame.message_id);
    conversation.setStatus(entry.item, "accepted", "accepted");
  }

  function onMessage(frame) {
    if (typeof frame.message !== "string") return;
    const awaitingEcho = state.pending.some((entry) => entry.messageId && entry.messageId === frame.message_id);
    if (!awaitingEcho && conversation.hasMessage(frame.message_id)) return; // already shown
    const recipients = recipientsOf(frame);
    // The echoed client_message_id names the pending message; servers without it are matched by content.
    const pendingIndex = frame.client_message_id
      ? state.pending.findIndex((entry) => entry.clientMessageId === frame.client_message_id)
      : state.pending.findIndex((entry) => entry.message === frame.message && sameList(entry.recipients, recipients));
    const fromMe = state.connectionId ? frame.sender_id === state.connectionId : pendingIndex >= 0;
    if (fromMe && pendingIndex >= 0) {
      const [entry] = state.pending.splice(pendingIndex, 1);
      clearTimeout(entry.timer);
      if (!state.connectionId && typeof frame.sender_id === "string") onConnection({ connection_id: frame.sender_id });
      conversation.confirmSent(entry.item, frame);
      return;
    }
    conversation.addMessage({
      kind: fromMe ? "sent" : "received",
      status: fromMe ? "sent" : "received",
      message: frame.message,
      senderId: frame.sender_id,
      recipients,
      sentAt: frame.sent_at,
      messageId: frame.message_id,
      ownId: state.connectionId,
      onReply: replyTo,
    });
  }

  function onDeliveryFailed(frame) {
    const text = conversation.textOf(frame.message_id);
    for (const { id, why } of deliveryFailures(frame)) {
      conversation.addNotice(
        "failure",
        `Recipient ${id} ${why}: the message was not delivered to them.`,
        text === null ? null : `Message: “${excerpt(text)}”`,
        { messageId: frame.message_id, recipientId: id },
      );
    }
    if (frame.message_id) {
      conversation.markPartlyDelivered(frame.message_id, `Not delivered to ${listIds(recipientsOf(frame))} (not reachable).`);
    }
  }

  function onError(frame) {
    const sentence = describeError(frame);
    // Only sendMessage answers with these. The echoed client_message_id names the message; without
    // it (a server that does not echo it, or a gateway error), the oldest one awaiting its echo.
    const index = frame.client_message_id
      ? state.pending.findIndex((pending) => pending.clientMessageId === frame.client_message_id)
      : 0;
    const entry = SEND_ERRORS.includes(frame.code) && index >= 0 ? state.pending.splice(index, 1)[0] : undefined;
    if (!entry) {
      conversation.addNotice("error", sentence, null, { code: frame.code });
      return;
    }
    clearTimeout(entry.timer);
    markNotSent(entry, sentence);
    conversation.addNotice("error", sentence, `Message: “${excerpt(entry.message)}”`, { code: frame.code });
  }

  // --- messages that were not confirmed ------------------------------------------------------

  function markNotSent(entry, why) {
    conversation.setStatus(entry.item, "not-sent", "not sent", why);
    offerPutBack(entry);
    // Nothing typed is lost: an empty message box gets the refused text back at once.
    if (!ui.message.value.trim()) {
      putBack(entry);
      showFeedback(`Not sent. ${why} Your message is back in the message box.`);
    } else {
      showFeedback(`Not sent. ${why} Use “Put back in the message box” on it to edit it and send again.`);
    }
  }

  function offerPutBack(entry) {
    conversation.offerPutBack(entry.item, () => {
      putBack(entry);
      ui.message.focus();
    });
  }

  function putBack(entry) {
    ui.message.value = entry.message;
    if (!ui.recipients.value.trim()) ui.recipients.value = entry.recipients.join(", ");
    updateByteCount();
  }

  /** The connection is over: whatever is still unconfirmed may never be delivered. */
  function connectionEnded(why) {
    for (const entry of state.pending.splice(0)) {
      clearTimeout(entry.timer);
      conversation.setStatus(entry.item, "unconfirmed", "unconfirmed", why);
      offerPutBack(entry);
    }
  }

  // --- sending ------------------------------------------------------------------------------

  function replyTo(senderId) {
    ui.recipients.value = senderId;
    ui.message.focus();
  }

  function showFeedback(text, field = null) {
    ui.feedback.textContent = text;
    for (const input of [ui.recipients, ui.message]) {
      if (input === field) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    if (field) field.focus();
  }

  function clearFeedback() {
    showFeedback("");
  }

  function notOpenReason() {
    const ws = state.ws;
    if (ws && ws.readyState === WebSocket.CONNECTING) return "still connecting; wait a moment and send again";
    if (!state.url) return "not connected; enter a WebSocket URL and choose Connect";
    return "the connection is closed; choose Reconnect, then send again";
  }

  function send() {
    const message = ui.message.value;
    const recipients = parseRecipients(ui.recipients.value);
    const problem = outgoingProblem(message, recipients);
    if (problem) {
      const field = recipients.length === 0 || recipients.length > MAX_RECIPIENTS ? ui.recipients : ui.message;
      showFeedback(problem, field);
      return;
    }
    const ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      showFeedback(`Not sent: ${notOpenReason()}. Your message is still in the box.`);
      return;
    }
    const clientMessageId = newClientMessageId();
    try {
      ws.send(JSON.stringify(sendMessageFrame(message, recipients, clientMessageId)));
    } catch (failure) {
      showFeedback(`Not sent: ${failure.message}. Your message is still in the box.`);
      return;
    }
    const item = conversation.addMessage({
      kind: "sent",
      status: "pending",
      message,
      senderId: state.connectionId,
      recipients,
      sentAt: new Date().toISOString(),
      ownId: state.connectionId,
    });
    const entry = { item, message, recipients, clientMessageId, timer: null };
    entry.timer = setTimeout(() => {
      if (state.pending.includes(entry)) conversation.setStatus(item, "unconfirmed", "no confirmation yet");
    }, CONFIRMATION_TIMEOUT_MS);
    state.pending.push(entry);
    // Only now, with the frame handed to the socket, is the typed text cleared.
    ui.message.value = "";
    updateByteCount();
    clearFeedback();
  }

  function updateByteCount() {
    const size = utf8Length(ui.message.value);
    ui.byteCount.textContent = size > MAX_MESSAGE_BYTES * 0.8 ? `${size} of ${MAX_MESSAGE_BYTES} bytes.` : "";
  }

  // --- copying the id -----------------------------------------------------------------------

  async function copyConnectionId() {
    const id = state.connectionId || ui.connectionId.textContent;
    if (!id) return;
    let copied = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(id);
        copied = true;
      } catch {
        copied = false;
      }
    }
    if (!copied) copied = copyWithSelection(id);
    if (copied) {
      ui.copyFeedback.textContent = "Copied.";
    } else {
      const range = document.createRange();
      range.selectNodeContents(ui.connectionId);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      ui.copyFeedback.textContent = "Could not copy by itself: the id is selected, press Ctrl+C (⌘+C on a Mac).";
    }
  }

  function copyWithSelection(text) {
    const scratch = h("textarea", { readonly: true, "aria-hidden": "true", className: "offscreen", tabindex: "-1" });
    scratch.value = text;
    document.body.append(scratch);
    scratch.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    scratch.remove();
    ui.copy.focus();
    return copied;
  }

  // --- wiring -------------------------------------------------------------------------------

  function submitOnEnter(event) {
    if (event.key !== "Enter" || event.isComposing || event.shiftKey || event.altKey) return;
    event.preventDefault();
    send();
  }

  ui.connectForm.addEventListener("submit", (event) => {
    event.preventDefault();
    connect(ui.url.value);
  });
  ui.disconnect.addEventListener("click", disconnect);
  ui.reconnect.addEventListener("click", () => connect(state.url || ui.url.value));
  ui.copy.addEventListener("click", copyConnectionId);
  ui.composeForm.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  ui.message.addEventListener("keydown", submitOnEnter);
  ui.recipients.addEventListener("keydown", submitOnEnter);
  ui.message.addEventListener("input", () => {
    updateByteCount();
    if (ui.feedback.textContent) clearFeedback();
  });
  ui.recipients.addEventListener("input", () => ui.recipients.removeAttribute("aria-invalid"));
  ui.url.addEventListener("input", () => {
    ui.url.removeAttribute("aria-invalid");
    ui.urlFeedback.textContent = "";
  });

  const initial = defaultSocketUrl();
  ui.url.value = initial;
  const params = new URLSearchParams(window.location.search);
  if (params.get("connect") === "0") {
    setStatus("idle", "Not connected. Check the URL and choose Connect.");
  } else {
    connect(initial);
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
else start();
