// The conversations panel of a stage with sign-in: direct conversations and rooms, each a button with its unread
// count (the open one marked aria-current), and the open room's members with their online dots. Everything the
// server supplies becomes text (dom.js).

import { h } from "./dom.js";

export class Sidebar {
  constructor({ directList, directEmpty, roomList, memberList, membersPanel, onOpen }) {
    Object.assign(this, { directList, directEmpty, roomList, memberList, membersPanel, onOpen });
  }

  /** Re-renders both lists from `conversations` (web/conversations.js), keeping the focused button focused. */
  render(conversations) {
    const focusedKey = document.activeElement?.dataset?.conversation ?? null;
    const byName = (a, b) => a.name.localeCompare(b.name);
    const direct = conversations.all.filter((entry) => entry.kind === "dm").sort(byName);
    const rooms = conversations.all.filter((entry) => entry.kind === "room" && entry.member).sort(byName);
    this.directList.replaceChildren(...direct.map((entry) => this.#item(entry, conversations.openKey)));
    this.roomList.replaceChildren(...rooms.map((entry) => this.#item(entry, conversations.openKey)));
    this.directEmpty.hidden = direct.length > 0;
    if (focusedKey) document.querySelector(`[data-conversation="${CSS.escape(focusedKey)}"]`)?.focus();
    const open = conversations.get(conversations.openKey);
    this.#renderMembers(open?.kind === "room" && open.member ? open : null);
  }

  #item(entry, openKey) {
    const label = entry.kind === "room" ? `#${entry.name}` : entry.name;
    const unread = entry.unread
      ? h(
          "span",
          { className: "unread", "data-testid": "unread-count" },
          String(entry.unread),
          h("span", { className: "visually-hidden" }, entry.unread === 1 ? " unread message" : " unread messages"),
        )
      : null;
    return h(
      "li",
      {},
      h(
        "button",
        {
          type: "button",
          className: "conversation-button",
          "data-testid": "conversation-button",
          dataset: { conversation: entry.key, kind: entry.kind, name: entry.name, unread: String(entry.unread) },
          "aria-current": entry.key === openKey ? "true" : null,
          onclick: () => this.onOpen(entry.key),
        },
        h("span", { className: "conversation-name" }, label),
        unread ? h("span", { className: "visually-hidden" }, ", ") : null,
        unread,
      ),
    );
  }

  #renderMembers(room) {
    this.membersPanel.hidden = room === null;
    if (!room) return;
    const members = [...room.members.values()].sort((a, b) => a.user.name.localeCompare(b.user.name));
    this.memberList.replaceChildren(
      ...members.map(({ user, online }) =>
        h(
          "li",
          { className: "member", "data-testid": "member", dataset: { user: user.name, online: String(online) } },
          h("span", { className: `dot ${online ? "online" : "offline"}`, "aria-hidden": "true" }),
          user.name,
          h("span", { className: "visually-hidden" }, online ? " (online)" : " (offline)"),
        ),
      ),
    );
  }
}
