// The chat's wire format as this client speaks it (docs/asyncapi.yaml is the reference; tests/web
// checks every frame built here against it, and these limits against its values). Pure functions
// only: unit-tested with `node --test` (tests/web).

export const MAX_RECIPIENTS = 20;
export const MAX_MESSAGE_BYTES = 16 * 1024;
// A browser sends each message as one frame, and API Gateway closes a connection whose client sends a
// frame over 32 KB (1009; "API Gateway quotas for WebSocket APIs"): the escaped JSON must fit.
export const MAX_FRAME_BYTES = 32 * 1024;
export const CLIENT_MESSAGE_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_CLIENT_MESSAGE_ID_LENGTH = 64;
// A Cognito username as docs/asyncapi.yaml's Username: no white space or control characters.
export const MAX_USERNAME_LENGTH = 128;
export const USERNAME = /^[^\s\x00-\x1f\x7f]{1,128}$/u;
// A room's name (case-insensitive: the server keys it in lower case). In the recipients box a room is `#<name>`.
export const ROOM = /^[A-Za-z0-9_-]{1,64}$/;
// The longest client_message_id newClientMessageId makes: the size check counts the frame as sent.
const LONGEST_CLIENT_MESSAGE_ID = "x".repeat(MAX_CLIENT_MESSAGE_ID_LENGTH);

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

/** Distinct recipient ids from text separated by commas, semicolons, spaces or new lines. Usernames (`people`)
 * are distinct case-insensitively, as Cognito compares them; the first spelling is kept. */
export function parseRecipients(text, { people = false } = {}) {
  const named = String(text ?? "").split(/[\s,;]+/u).filter(Boolean);
  if (!people) return [...new Set(named)];
  const byKey = new Map();
  for (const name of named) if (!byKey.has(name.toLowerCase())) byKey.set(name.toLowerCase(), name);
  return [...byKey.values()];
}

export function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

/** Why this message cannot be sent (a sentence), or null when it can. */
export function outgoingProblem(message, recipients, { people = false } = {}) {
  if (recipients.length === 0) {
    return people
      ? "Add at least one recipient: type the username of the person to write to."
      : "Add at least one recipient: paste the connection id of the person to write to.";
  }
  if (recipients.length > MAX_RECIPIENTS) {
    return `That is ${recipients.length} recipients; one message can go to at most ${MAX_RECIPIENTS}.`;
  }
  const unusable = people ? recipients.find((name) => !USERNAME.test(name)) : undefined;
  if (unusable !== undefined) return `“${unusable.slice(0, 32)}” is not a username: at most ${MAX_USERNAME_LENGTH} characters, no control characters.`;
  if (!message.trim()) return "Type a message first.";
  const size = utf8Length(message);
  if (size > MAX_MESSAGE_BYTES) {
    return `The message is ${size} bytes; the limit is ${MAX_MESSAGE_BYTES} bytes (UTF-8). Shorten it and send again.`;
  }
  const frameSize = utf8Length(JSON.stringify(sendMessageFrame(message, recipients, LONGEST_CLIENT_MESSAGE_ID, { people })));
  if (frameSize > MAX_FRAME_BYTES) {
    return (
      `With its quotes and control characters escaped, the message takes ${frameSize} bytes on the wire; ` +
      `one frame carries at most ${MAX_FRAME_BYTES} bytes. Shorten it and send again.`
    );
  }
  return null;
}

/** The sendMessage frame: recipient_id for one recipient, recipient_ids for several, recipient_users for people
 * (usernames, on a stage with sign-in). The server echoes client_message_id in the accepted, message or error
 * frame about it, so answers pair exactly. */
export function sendMessageFrame(message, recipients, clientMessageId, { people = false } = {}) {
  const frame = { action: "sendMessage", message };
  if (people) frame.recipient_users = [...recipients];
  else if (recipients.length === 1) frame.recipient_id = recipients[0];
  else frame.recipient_ids = [...recipients];
  if (clientMessageId) frame.client_message_id = clientMessageId;
  return frame;
}

/** A room action's frame: joinRoom, leaveRoom or roomMembers. */
export function roomActionFrame(action, room) {
  return { action, room };
}

/** The room the recipients box names (`#<name>`, on a stage with sign-in), or null when it names people. */
export function roomTarget(recipientsText) {
  const text = String(recipientsText ?? "").trim();
  return text.startsWith("#") ? text.slice(1) : null;
}

/** What the compose box would send: {frame, recipients, clientMessageId}, or {problem, field} when it
 * cannot be sent, field naming the input to fix ("recipients" or "message"). With people, `#<room>` sends to a
 * room ({frame, room}). */
export function composeSendMessage(message, recipientsText, clientMessageId = newClientMessageId(), { people = false } = {}) {
  const room = people ? roomTarget(recipientsText) : null;
  if (room !== null) {
    if (!ROOM.test(room)) return { problem: `“#${room.slice(0, 64)}” is not a room: 1 to 64 letters, digits, '_' or '-'.`, field: "recipients" };
    const problem = outgoingProblem(message, [room], { people: true });
    if (problem) return { problem, field: "message" };
    return { frame: { action: "sendMessage", message, room, client_message_id: clientMessageId }, recipients: [], room, clientMessageId };
  }
  const recipients = parseRecipients(recipientsText, { people });
  const problem = outgoingProblem(message, recipients, { people });
  if (problem) {
    const aboutRecipients =
      recipients.length === 0 || recipients.length > MAX_RECIPIENTS || (people && !recipients.every((name) => USERNAME.test(name)));
    return { problem, field: aboutRecipients ? "recipients" : "message" };
  }
  return { frame: sendMessageFrame(message, recipients, clientMessageId, { people }), recipients, clientMessageId };
}

/** A fresh id for one sent message: [A-Za-z0-9_-], at most 64 characters, as the server requires. */
export function newClientMessageId() {
  const random = globalThis.crypto?.randomUUID ? globalThis.crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  return random.replace(/[^A-Za-z0-9_-]/g, "").slice(0, MAX_CLIENT_MESSAGE_ID_LENGTH);
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
    case "unknown_user":
      return `Not sent: ${detail}. Check the spelling of the username.`;
    case "no_users":
      return "This stage has no sign-in, so it has no users: send to connection ids instead.";
    case "token_expired":
      return "Your sign-in for this connection expired; the page reconnects with a renewed one.";
    case "history_unavailable":
    case "conversations_unavailable":
      return "The history could not be read just now; try again in a moment.";
    case "invalid_room":
      return `That is not a room name: ${detail}.`;
    case "unknown_room":
      return `There is no such room: ${detail}.`;
    case "not_a_member":
      return `You are not a member of that room: ${detail}.`;
    case "invite_only":
      return `That room is invite-only: a member must invite you. ${detail}.`;
    case "room_full":
      return `That room is full: ${detail}.`;
    case "too_many_rooms":
      return `You are in as many rooms as you may be: leave one first. ${detail}.`;
    case "already_a_member":
      return `Already a member: ${detail}.`;
    default:
      return frame.code ? `The server reported an error (${frame.code}): ${detail}.` : `The server reported an error: ${detail}.`;
  }
}

/** A frame from the server as an object, or null when it is not a JSON object. */
export function parseFrame(data) {
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return null;
  }
  return frame && typeof frame === "object" && !Array.isArray(frame) ? frame : null;
}

/** The kind of a frame, including the seed's untyped frames and API Gateway's own error answer. */
export function frameType(frame) {
  if (typeof frame.type === "string") return frame.type;
  // The seed's frames had no type.
  if (typeof frame.sender_id === "string" && typeof frame.message === "string") return "message";
  if (typeof frame.connection_id === "string") return "connection";
  // API Gateway's own answer when an integration fails: {"message":"Internal server error","connectionId",...}
  if (typeof frame.message === "string" && typeof frame.connectionId === "string") return "gateway_error";
  return String(frame.type);
}

/** The recipients a message or delivery_failed frame names (recipient_users, else recipient_ids, else recipient_id). */
export function recipientsOf(frame) {
  if (Array.isArray(frame.recipient_users)) return frame.recipient_users.filter((name) => typeof name === "string");
  if (Array.isArray(frame.recipient_ids)) return frame.recipient_ids.filter((id) => typeof id === "string");
  return typeof frame.recipient_id === "string" ? [frame.recipient_id] : [];
}

export function sameList(a, b) {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/** The sender a message frame names: its connection id and, on a stage with sign-in, the user {id, name}. */
export function senderOf(frame) {
  const user = frame.sender && typeof frame.sender === "object" ? frame.sender : null;
  const named = user && typeof user.id === "string" && typeof user.name === "string";
  return { connectionId: typeof frame.sender_id === "string" ? frame.sender_id : null, user: named ? { id: user.id, name: user.name } : null };
}

/** Who sent a message, seen from this page: "this-connection" (this very connection), "elsewhere" (the signed-in
 * user, from another tab or device: same user id, another connection) or "other". */
export function messageOrigin(frame, { connectionId = null, userId = null } = {}) {
  if (connectionId && frame.sender_id === connectionId) return "this-connection";
  const { user } = senderOf(frame);
  return userId && user && user.id === userId ? "elsewhere" : "other";
}

const USER_FAILURES = { offline: "is not connected anywhere", failed: "could not be reached (their connections could not be looked up)" };

/** Per user of a delivery_failed frame about a message to people: the username and why they did not get it. The
 * connections it lists are left out: a user with another connection reached got the message, and one with none is
 * listed as a user. */
export function userDeliveryFailures(frame) {
  const failures = Array.isArray(frame.failures) ? frame.failures : [];
  return failures
    .filter((failure) => failure && typeof failure.username === "string")
    .map((failure) => ({ id: failure.username, why: USER_FAILURES[failure.status] || "was not reached" }));
}

/** Per recipient of a delivery_failed frame: its id and why it was not reached, in plain words. */
export function deliveryFailures(frame) {
  const gone = recipientsOf(frame);
  const outcomes = new Map((Array.isArray(frame.failures) ? frame.failures : []).map((f) => [f.connection_id, f]));
  return (gone.length ? gone : ["(unknown)"]).map((id) => {
    const outcome = outcomes.get(id);
    const status = outcome ? outcome.status : frame.reason;
    const why =
      status === "gone" || !status
        ? "not reachable"
        : `not reachable (delivery failed${outcome && outcome.error ? `: ${outcome.error}` : ""})`;
    return { id, why };
  });
}
