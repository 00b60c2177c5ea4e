"""Rooms in the web client on the local runtime's sign-in stage, in Chromium: joining with the keyboard, members
with online dots, a member's page offline while messages arrive shown them on reconnect in order, once each, with
the room's unread count; the sender's other page shows them as sent; leaving."""

from __future__ import annotations

import pytest

from tests.e2e.test_web_client import DELIVERY_TIMEOUT_MS, ChatPage, browser, expect  # noqa: F401
from tests.e2e.test_web_conversations import open_tab, reconnect, users  # noqa: F401

pytestmark = pytest.mark.browser
ALICE, BOB, CAROL = "roomalice", "roombob", "roomcarol"
USERS = (ALICE, BOB, CAROL)


def room_button(chat: ChatPage, room: str):
    return chat.page.locator(f'[data-testid="conversation-button"][data-conversation="room:{room}"]')


def room_texts(chat: ChatPage, room: str) -> list[str]:
    items = chat.page.locator(f'ol[data-conversation="room:{room}"] [data-testid="message-item"]:not(.msg-notice)')
    return items.get_by_test_id("message-text").all_text_contents()


def join(chat: ChatPage, room: str) -> None:
    """With the keyboard: the room's name, then Enter; the page opens the room once the server says so."""
    chat.by("room-input").fill(room)
    chat.by("room-input").press("Enter")
    expect(chat.by("conversation-heading")).to_have_text(f"Room #{room.lower()}", timeout=DELIVERY_TIMEOUT_MS)


def member(chat: ChatPage, name: str):
    return chat.by("member-list").locator(f'[data-testid="member"][data-user="{name}"]')


def test_a_room_member_offline_while_messages_arrive_sees_them_on_reconnect_with_unread_counts(open_tab):  # noqa: F811
    alice, alice_again, bob = open_tab(ALICE), open_tab(ALICE), open_tab(BOB)
    join(alice, "WebRoom")  # names are not case-sensitive: the room is webroom
    join(bob, "webroom")
    expect(member(alice, BOB)).to_have_attribute("data-online", "true", timeout=DELIVERY_TIMEOUT_MS)
    expect(member(bob, ALICE)).to_have_attribute("data-online", "true", timeout=DELIVERY_TIMEOUT_MS)
    alice.send("#webroom", "welcome to the room")
    expect(bob.item_with_text("received", "welcome to the room")).to_have_count(1, timeout=DELIVERY_TIMEOUT_MS)
    bob.send(CAROL, "back in a moment")  # Bob looks elsewhere, then his page goes offline
    expect(bob.item_with_text("sent", "back in a moment")).to_have_attribute(
        "data-status", "sent", timeout=DELIVERY_TIMEOUT_MS
    )
    bob.disconnect()

    missed = [f"room news {number}" for number in range(1, 4)]
    for text in missed:
        alice.send("#webroom", text)
        expect(alice.item_with_text("sent", text)).to_have_attribute("data-status", "sent", timeout=DELIVERY_TIMEOUT_MS)
    for text in missed:
        expect(alice_again.item_with_text("sent", text)).to_have_count(1, timeout=DELIVERY_TIMEOUT_MS)
    reconnect(bob)

    in_room = room_button(bob, "webroom")
    expect(in_room.get_by_test_id("unread-count")).to_have_text("3 unread messages", timeout=DELIVERY_TIMEOUT_MS)
    in_room.click()
    expect(in_room.get_by_test_id("unread-count")).to_have_count(0)
    expect(bob.page.locator('ol[data-conversation="room:webroom"] .msg:not(.msg-notice)')).to_have_count(4)
    assert room_texts(bob, "webroom") == ["welcome to the room", *missed]
    assert room_texts(alice_again, "webroom") == ["welcome to the room", *missed]

    bob.by("leave-room-button").click()
    expect(member(alice, BOB)).to_have_count(0, timeout=DELIVERY_TIMEOUT_MS)
    expect(room_button(bob, "webroom")).to_have_count(0)
