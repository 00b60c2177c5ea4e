// Browser client for the serverless chat. A plain ES module: no build step, no dependencies.
//
// Wire format (see lambdas/chat/frames.py and statemachines/message_fanout.asl.json):
//   server → client  {"type":"connection","connection_id"}
//                    {"type":"message","message_id","message","sender_id","recipient_id","recipient_ids","sent_at"}
//                    {"type":"delivery_failed","reason":"gone","message_id","recipient_id","recipient_ids"}
//                    {"type":"error","code","message",...}
//   client → server  {"action":"sendMessage","message","recipient_id"} or {..., "recipient_ids":[...]}
//
// Everything the server or a user supplies is rendered with textContent, never as HTML.

export const MAX_RECIPIENTS = 20;
export const MAX_MESSAGE_BYTES = 16 * 1024;
export const DEFAULT_STAGE = "dev";
// Where `make dev` serves the chat, for a page opened from disk rather than from the local runtime.
const FALLBACK_ORIGIN = "ws://127.0.0.1:3001";
const CONFIRMATION_TIMEOUT_MS = 20_000;

const CLOSE_REASONS = {
  1000: "closed normally",
  1001: "the server or the page went away (API Gateway closes idle connections after 10 minutes)",
  1002: "protocol error",
  1003: "the server refused the data",
  1005: "closed without a status code",
  1006: "the connection was lost or could not be opened",
  1007: "the server refused malformed data",
  1008: "refused by policy",
  1009: "a frame was too large",
  1011: "the server hit an error",
  1012: "the server is restarting",
  1013: "the server is overloaded; try again later",
  1015: "TLS handshake failed",
};

// ---------------------------------------------------------------------------------------------
// Pure helpers (exported so they can be exercised from a test page).

/** The WebSocket URL to use when the page opens: ?url=, else ?stage= on this page's own host. */
export function defaultSocketUrl(loc = window.location) {
  const params = new URLSearchParams(loc.search);
  const explicit = (params.get("url") || "").trim();
  if (explicit) return explicit;
  const stage = (params.get("stage") || DEFAULT_STAGE).trim().replace(/^\/+|\/+$/g, "") || DEFAULT_STAGE;
  const path = stage.split("/").map(encodeURIComponent).join("/");
  if (!loc.host || (loc.protocol !== "http:" && loc.protocol !== "https:")) return `${FALLBACK_ORIGIN}/${path}`;
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/${path}`;
}

/** {url} for a usable ws:// or wss:// URL (http(s):// is turned into ws(s)://), else {error}. */
export function normalizeSocketUrl(text) {
  const trimmed = String(text ?? "").trim();
  const example = "wss://abc123.execute-api.eu-west-1.amazonaws.com/dev";
  if (!trimmed) return { error: `Type a WebSocket URL first, like ${example}.` };
  let url;
  try {
    url = new URL(trimmed);
  } catch {
    return { error: `“${trimmed}” is not a URL; a WebSocket URL looks like ${example}.` };
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    return { error: `A WebSocket URL starts with ws:// or wss://, not ${url.protocol}//.` };
  }
  url.hash = "";
  return { url: url.href };
}

/** Distinct recipient ids from text separated by commas, semicolons, spaces or new lines. */
export function parseRecipients(text) {
  return [...new Set(String(text ?? "").split(/[\s,;]+/u).filter(Boolean))];
}

export function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

/** Why this message cannot be sent (a sentence), or null when it can. */
export function outgoingProblem(message, recipients) {
  if (recipients.length === 0) return "Add at least one recipient: paste the connection id of the person to write to.";
  if (recipients.length > MAX_RECIPIENTS) {
    return `That is ${recipients.length} recipients; one message can go to at most ${MAX_RECIPIENTS}.`;
  }
  if (!message.trim()) return "Type a message first.";
  const size = utf8Length(message);
  if (size > MAX_MESSAGE_BYTES) {
    return `The message is ${size} bytes; the limit is ${MAX_MESSAGE_BYTES} bytes (UTF-8). Shorten it and send again.`;
  }
  return null;
}

/** The sendMessage frame: recipient_id for one recipient, recipient_ids for several. The server
 * echoes client_message_id in the error or message frame about it, so answers pair exactly. */
export function sendMessageFrame(message, recipients, clientMessageId) {
  const frame = { action: "sendMessage", message };
  if (recipients.length === 1) frame.recipient_id = recipients[0];
  else frame.recipient_ids = [...recipients];
  if (clientMessageId) frame.client_message_id = clientMessageId;
  return frame;
}

/** A fresh id for one sent message: [A-Za-z0-9_-], at most 64 characters, as the server requires. */
export function newClientMessageId() {
  const random = globalThis.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  return random.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 64);
}

export function describeClose(code, reason) {
  const explained = CLOSE_REASONS[code] || "the connection ended";
  return `Closed (code ${code}${reason ? `: ${reason}` : ""}) — ${explained}.`;
}

/** A plain-words sentence for an error frame. */
export function describeError(frame) {
  const detail = typeof frame.message === "string" && frame.message ? frame.message : "no details given";
  switch (frame.code) {
    case "invalid_json":
      return `The server could not read what was sent (not valid JSON): ${detail}.`;
    case "invalid_request":
      return `The server did not accept the message: ${detail}.`;
    case "missing_action":
    case "unknown_action":
      return `The server did not recognise the request: ${detail}.`;
    case "not_sent":
      return "The server could not start delivering the message; please try again.";
    default:
      return frame.code ? `The server reported an error (${frame.code}): ${detail}.` : `The server reported an error: ${detail}.`;
  }
}

function recipientsOf(frame) {
  if (Array.isArray(frame.recipient_ids)) return frame.recipient_ids.filter((id) => typeof id === "string");
  return typeof frame.recipient_id === "string" ? [frame.recipient_id] : [];
}

function sameList(a, b) {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return { text: String(iso ?? ""), datetime: null, title: "" };
  return {
    text: date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }),
    datetime: date.toISOString(),
    title: date.toLocaleString(),
  };
}

function excerpt(text, length = 80) {
  const flat = String(text).replace(/\s+/gu, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

function listIds(ids) {
  return ids.join(", ");
}

// ---------------------------------------------------------------------------------------------
// The page.

/** Builds an element; string children become text nodes (never parsed as HTML). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function start() {
  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"),
    reconnect: $("reconnect-button"),
    connectForm: $("connect-form"),
    url: $("url-input"),
    connect: $("connect-button"),
    disconnect: $("disconnect-button"),
    urlFeedback: $("url-feedback"),
    connectionId: $("connection-id"),
    connectionIdPlaceholder: $("connection-id-placeholder"),
    copy: $("copy-id-button"),
    copyFeedback: $("copy-feedback"),
    log: $("conversation-log"),
    emptyNote: $("empty-note"),
    list: $("message-list"),
    composeForm: $("compose-form"),
    recipients: $("recipients-input"),
    message: $("message-input"),
    byteCount: $("byte-count"),
    feedback: $("compose-feedback"),
  };

  const state = {
    ws: null,
    url: null,
    connectionId: null,
    /** Messages sent on the current connection and not yet confirmed by their echo or refused. */
    pending: [],
    /** message_id → list item, to attach delivery failures to the message they concern. */
    byMessageId: new Map(),
    followLog: true,
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
    const params = new URLSearchParams(window.location.search);
    const here = new URL(window.location.href);
    params.delete("url");
    params.delete("connect"); // connected on purpose: a reload should connect again
    const derived = defaultSocketUrl({ search: `?${params}`, host: here.host, protocol: here.protocol });
    if (normalizeSocketUrl(derived).url !== url) {
      params.delete("stage");
      params.set("url", url);
    }
    const query = params.toString();
    const next = `${here.pathname}${query ? `?${query}` : ""}`;
    if (next !== `${here.pathname}${here.search}`) window.history.replaceState(null, "", next);
  }

  // --- frames from the server ----------------------------------------------------------------

  function handleFrame(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      frame = null;
    }
    if (!frame || typeof frame !== "object" || Array.isArray(frame)) {
      addNotice("error", `The server sent something this page cannot read: ${excerpt(data, 120)}`);
      return;
    }
    switch (frameType(frame)) {
      case "connection":
        onConnection(frame);
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
        addNotice("info", `The server sent a frame of a kind this page does not know (${excerpt(frame.type, 40)}).`);
    }
  }

  function frameType(frame) {
    if (typeof frame.type === "string") return frame.type;
    // The seed's frames had no type.
    if (typeof frame.sender_id === "string" && typeof frame.message === "string") return "message";
    if (typeof frame.connection_id === "string") return "connection";
    // API Gateway's own answer when an integration fails: {"message":"Internal server error","connectionId",...}
    if (typeof frame.message === "string" && typeof frame.connectionId === "string") return "gateway_error";
    return String(frame.type);
  }

  function onConnection(frame) {
    if (typeof frame.connection_id !== "string" || !frame.connection_id) return;
    state.connectionId = frame.connection_id;
    showConnectionId(state.connectionId, { live: true });
    setStatus("open", `Connected to ${state.url}.`);
  }

  function onMessage(frame) {
    if (typeof frame.message !== "string") return;
    if (frame.message_id && state.byMessageId.has(frame.message_id)) return; // already shown
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
      confirmSent(entry.item, frame);
      return;
    }
    addMessage({
      kind: fromMe ? "sent" : "received",
      status: fromMe ? "sent" : "received",
      message: frame.message,
      senderId: frame.sender_id,
      recipients,
      sentAt: frame.sent_at,
      messageId: frame.message_id,
    });
  }

  function onDeliveryFailed(frame) {
    const gone = recipientsOf(frame);
    const item = frame.message_id ? state.byMessageId.get(frame.message_id) : undefined;
    const text = item ? item.querySelector("[data-testid=message-text]").textContent : null;
    // Per-connection outcomes when the server sends them: gone (not connected) or failed (an error).
    const outcomes = new Map((Array.isArray(frame.failures) ? frame.failures : []).map((f) => [f.connection_id, f]));
    for (const id of gone.length ? gone : ["(unknown)"]) {
      const outcome = outcomes.get(id);
      const status = outcome ? outcome.status : frame.reason;
      const why = status === "gone" || !status
        ? "not reachable"
        : `not reachable (delivery failed${outcome && outcome.error ? `: ${outcome.error}` : ""})`;
      addNotice(
        "failure",
        `Recipient ${id} ${why}: the message was not delivered to them.`,
        text === null ? null : `Message: “${excerpt(text)}”`,
        { messageId: frame.message_id, recipientId: id },
      );
    }
    if (item) {
      const note = item.querySelector("[data-testid=message-delivery]");
      note.hidden = false;
      note.textContent = `Not delivered to ${listIds(gone)} (not reachable).`;
      item.dataset.delivery = "partial";
    }
  }

  function onError(frame) {
    const sentence = describeError(frame);
    // Only sendMessage answers with these. The echoed client_message_id names the message; without
    // it (a server that does not echo it, or a gateway error), the oldest one awaiting its echo.
    const aboutASend = ["invalid_request", "not_sent", "invalid_json", "gateway_error"].includes(frame.code);
    const index = frame.client_message_id
      ? state.pending.findIndex((pending) => pending.clientMessageId === frame.client_message_id)
      : 0;
    const entry = aboutASend && index >= 0 ? state.pending.splice(index, 1)[0] : undefined;
    if (!entry) {
      addNotice("error", sentence, null, { code: frame.code });
      return;
    }
    clearTimeout(entry.timer);
    markNotSent(entry, sentence);
    addNotice("error", sentence, `Message: “${excerpt(entry.message)}”`, { code: frame.code });
  }

  // --- the conversation ----------------------------------------------------------------------

  function addToLog(item) {
    ui.emptyNote.hidden = true;
    ui.list.append(item);
    followLog();
  }

  /** Keeps the newest line in view unless the reader has scrolled up to read older ones. */
  function followLog() {
    if (state.followLog) ui.log.scrollTop = ui.log.scrollHeight;
  }

  function timeElement(iso) {
    const when = formatTime(iso);
    return h(
      "time",
      { className: "msg-time", "data-testid": "message-time", datetime: when.datetime, title: when.title },
      when.text,
    );
  }

  function addMessage({ kind, status, message, senderId, recipients, sentAt, messageId }) {
    const mine = kind === "sent";
    const others = recipients.filter((id) => id !== state.connectionId);
    let to;
    if (mine) to = `to ${listIds(recipients)}`;
    else if (others.length === recipients.length) to = `to ${listIds(recipients)}`;
    else to = others.length ? `to you and ${listIds(others)}` : "to you";
    const actions = h("div", { className: "msg-actions" });
    if (!mine && typeof senderId === "string") {
      actions.append(
        h(
          "button",
          {
            type: "button",
            className: "small",
            "data-testid": "reply-button",
            onclick: () => {
              ui.recipients.value = senderId;
              ui.message.focus();
            },
          },
          "Reply",
          h("span", { className: "visually-hidden" }, ` to ${senderId}`),
        ),
      );
    }
    const item = h(
      "li",
      {
        className: `msg msg-${kind}`,
        "data-testid": "message-item",
        dataset: { kind, status, messageId: messageId || "" },
      },
      h(
        "p",
        { className: "msg-meta" },
        h(
          "span",
          { className: "msg-sender", "data-testid": "message-sender", title: senderId || "" },
          mine ? "You" : `From ${senderId ?? "(unknown sender)"}`,
        ),
        " ",
        h("span", { className: "msg-recipients", "data-testid": "message-recipients" }, to),
        " · ",
        timeElement(sentAt),
        h(
          "span",
          { className: "msg-state", "data-testid": "message-state" },
          status === "pending" ? " · sending…" : "",
        ),
      ),
      h("p", { className: "msg-text", "data-testid": "message-text" }, message),
      h("p", { className: "msg-delivery", "data-testid": "message-delivery", hidden: true }),
      actions,
    );
    if (messageId) state.byMessageId.set(messageId, item);
    addToLog(item);
    return item;
  }

  function confirmSent(item, frame) {
    item.dataset.status = "sent";
    item.dataset.messageId = frame.message_id || "";
    if (frame.message_id) state.byMessageId.set(frame.message_id, item);
    item.querySelector("[data-testid=message-time]").replaceWith(timeElement(frame.sent_at));
    item.querySelector("[data-testid=message-state]").textContent = "";
    item.querySelector(".msg-sender").title = frame.sender_id || "";
  }

  function markNotSent(entry, why) {
    const { item } = entry;
    item.dataset.status = "not-sent";
    item.querySelector("[data-testid=message-state]").textContent = " · not sent";
    const note = item.querySelector("[data-testid=message-delivery]");
    note.hidden = false;
    note.textContent = why;
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
    const actions = entry.item.querySelector(".msg-actions");
    if (actions.querySelector("[data-testid=put-back-button]")) return;
    actions.append(
      h(
        "button",
        {
          type: "button",
          className: "small",
          "data-testid": "put-back-button",
          onclick: () => {
            putBack(entry);
            ui.message.focus();
          },
        },
        "Put back in the message box",
      ),
    );
  }

  function putBack(entry) {
    ui.message.value = entry.message;
    if (!ui.recipients.value.trim()) ui.recipients.value = entry.recipients.join(", ");
    updateByteCount();
  }

  /** A line in the conversation that is not a chat message: failures, errors, notes. */
  function addNotice(kind, text, detail = null, extra = {}) {
    const label = { failure: "Delivery failed", error: "Error", info: "Note" }[kind] || "Note";
    const item = h(
      "li",
      {
        className: `msg msg-notice msg-${kind}`,
        "data-testid": "message-item",
        dataset: {
          kind,
          messageId: extra.messageId || "",
          recipientId: extra.recipientId || "",
          code: extra.code || "",
        },
      },
      h(
        "p",
        { className: "msg-meta" },
        h("strong", { className: "msg-label" }, label),
        " · ",
        timeElement(new Date().toISOString()),
      ),
      h("p", { className: "msg-text", "data-testid": "message-text" }, text),
      detail ? h("p", { className: "msg-detail" }, detail) : null,
    );
    addToLog(item);
    return item;
  }

  /** The connection is over: whatever is still unconfirmed may never be delivered. */
  function connectionEnded(why) {
    for (const entry of state.pending.splice(0)) {
      clearTimeout(entry.timer);
      entry.item.dataset.status = "unconfirmed";
      entry.item.querySelector("[data-testid=message-state]").textContent = " · unconfirmed";
      const note = entry.item.querySelector("[data-testid=message-delivery]");
      note.hidden = false;
      note.textContent = why;
      offerPutBack(entry);
    }
  }

  // --- sending ------------------------------------------------------------------------------

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
    const item = addMessage({
      kind: "sent",
      status: "pending",
      message,
      senderId: state.connectionId,
      recipients,
      sentAt: new Date().toISOString(),
    });
    const entry = { item, message, recipients, clientMessageId, timer: null };
    entry.timer = setTimeout(() => {
      if (!state.pending.includes(entry)) return;
      item.dataset.status = "unconfirmed";
      item.querySelector("[data-testid=message-state]").textContent = " · no confirmation yet";
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
  // Lines also grow after they are added (a delivery note, a confirmation): keep following them.
  if (typeof ResizeObserver === "function") new ResizeObserver(followLog).observe(ui.list);
  ui.log.addEventListener("scroll", () => {
    state.followLog = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;
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

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
  else start();
}
