// Text shown in the conversation. Pure functions: unit-tested with `node --test` (tests/web).

/** A clock time for the message line, its machine-readable form and a full tooltip. */
export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return { text: String(iso ?? ""), datetime: null, title: "" };
  return {
    text: date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }),
    datetime: date.toISOString(),
    title: date.toLocaleString(),
  };
}

/** The text on one line, cut to `length` characters with an ellipsis. */
export function excerpt(text, length = 80) {
  const flat = String(text).replace(/\s+/gu, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

export function listIds(ids) {
  return ids.join(", ");
}

/** "to …" for a message line, from the reader's point of view. */
export function recipientsLine(recipients, ownId, mine) {
  const others = recipients.filter((id) => id !== ownId);
  if (mine || others.length === recipients.length) return `to ${listIds(recipients)}`;
  return others.length ? `to you and ${listIds(others)}` : "to you";
}
