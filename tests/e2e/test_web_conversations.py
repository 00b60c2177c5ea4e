"""The web client's conversations on the local runtime's sign-in stage, in Chromium: two users on three pages (one
user on two), one page offline while messages arrive. On reconnect it fetches what it missed (listConversations,
then history) and shows it in order, once each, with the unread count on the conversation; the user's other page
shows them as sent. A conversation opened on a fresh page reads its newest page of history, and older ones on
demand, to its beginning."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from tests.e2e.test_web_client import DELIVERY_TIMEOUT_MS, ChatPage, browser, browser_tabs, expect  # noqa: F401

pytestmark = pytest.mark.browser
PASSWORD = "Web-conversations-password-1"
ALICE, BOB, CAROL = "convalice", "convbob", "convcarol"
USERS = (ALICE, BOB, CAROL)


@contextlib.contextmanager
def signed_in_tabs(browser, runtime) -> Iterator[Callable[[str], ChatPage]]:  # noqa: F811
    """Opens signed-in tabs, each in a browser context of its own, connected."""
    with browser_tabs(browser) as new_tab:

        def open_one(name: str) -> ChatPage:
            chat = new_tab()
            chat.page.goto(f"{runtime.http_url}/")
            chat.by("username-input").fill(name)
            chat.by("password-input").fill(PASSWORD)
            chat.by("password-input").press("Enter")
            chat.wait_for_id()
            return chat

        yield open_one


@pytest.fixture(scope="module")
def users(signed_in_runtime, request) -> None:
    """The users the test module names in USERS (a module that imports this fixture gets its own)."""
    for name in request.module.USERS:
        added = signed_in_runtime.local_cli("users", "add", name, "--password", PASSWORD)
        assert added.returncode == 0, added.stderr


@pytest.fixture
def open_tab(browser, signed_in_runtime, users) -> Iterator[Callable[[str], ChatPage]]:  # noqa: F811
    with signed_in_tabs(browser, signed_in_runtime) as open_one:
        yield open_one


def conversation_button(chat: ChatPage, name: str):
    return chat.page.locator(f'[data-testid="conversation-button"][data-conversation="dm:{name}"]')


def shown_texts(chat: ChatPage, name: str) -> list[str]:
    """The messages of the conversation with ``name`` as the page lists them, top to bottom."""
    items = chat.page.locator(f'ol[data-conversation="dm:{name}"] [data-testid="message-item"]:not(.msg-notice)')
    return items.get_by_test_id("message-text").all_text_contents()


def reconnect(chat: ChatPage) -> None:
    chat.by("reconnect-button").click()
    chat.wait_for_id()


def test_a_page_offline_while_messages_arrive_shows_them_on_reconnect_in_order_once_each_with_unread_counts(
    open_tab,
):
    alice, alice_again, bob = open_tab(ALICE), open_tab(ALICE), open_tab(BOB)
    alice.send(BOB, "before the break")
    expect(bob.item_with_text("received", "before the break")).to_be_visible(timeout=DELIVERY_TIMEOUT_MS)
    expect(alice_again.item_with_text("sent", "before the break")).to_have_attribute("data-origin", "elsewhere")
    # Bob looks at another conversation, then his page goes offline.
    bob.send(CAROL, "hi carol")
    expect(bob.item_with_text("sent", "hi carol")).to_have_attribute("data-status", "sent", timeout=DELIVERY_TIMEOUT_MS)
    expect(bob.by("conversation-heading")).to_have_text(f"Conversation with {CAROL}")
    bob.disconnect()

    missed = [f"while you were away {number}" for number in range(1, 4)]
    for text in missed:
        alice.send(BOB, text)
        expect(alice.item_with_text("sent", text)).to_have_attribute("data-status", "sent", timeout=DELIVERY_TIMEOUT_MS)
    for text in missed:  # Alice's other page shows what she sent, as sent
        expect(alice_again.item_with_text("sent", text)).to_have_count(1, timeout=DELIVERY_TIMEOUT_MS)
    assert bob.items("received").filter(has_text="while you were away").count() == 0

    reconnect(bob)

    with_alice = conversation_button(bob, ALICE)
    expect(with_alice.get_by_test_id("unread-count")).to_have_text("3 unread messages", timeout=DELIVERY_TIMEOUT_MS)
    expect(bob.by("conversation-heading")).to_have_text(f"Conversation with {CAROL}")  # nothing moved under him
    with_alice.focus()
    bob.page.keyboard.press("Enter")  # the keyboard opens it
    expect(bob.by("conversation-heading")).to_have_text(f"Conversation with {ALICE}")
    expect(with_alice.get_by_test_id("unread-count")).to_have_count(0)
    expect(with_alice).to_have_attribute("aria-current", "true")
    expect(bob.page.locator(f'ol[data-conversation="dm:{ALICE}"] [data-testid="message-item"]')).to_have_count(4)
    assert shown_texts(bob, ALICE) == ["before the break", *missed]
    for chat in (alice, alice_again):
        assert shown_texts(chat, BOB) == ["before the break", *missed], chat
    expect(bob.by("recipients-input")).to_have_value(ALICE)  # the message box now answers Alice

    # Live again: a new message arrives once, after the ones fetched.
    alice.send(BOB, "welcome back")
    expect(bob.item_with_text("received", "welcome back")).to_have_count(1, timeout=DELIVERY_TIMEOUT_MS)
    assert shown_texts(bob, ALICE) == ["before the break", *missed, "welcome back"]


def test_a_conversation_opened_on_a_fresh_page_reads_its_history_newest_page_first_then_older_ones(open_tab):
    alice = open_tab(ALICE)
    texts = [f"history line {number:02}" for number in range(1, 24)]  # more than one page (20)
    for text in texts:  # one at a time: messages sent at once may be taken in either order (the server's is kept)
        alice.send(CAROL, text)
        expect(alice.item_with_text("sent", text)).to_have_attribute("data-status", "sent", timeout=DELIVERY_TIMEOUT_MS)

    carol = open_tab(CAROL)  # signed in after all of it: nothing arrived live

    with_alice = conversation_button(carol, ALICE)
    expect(with_alice).to_be_visible(timeout=DELIVERY_TIMEOUT_MS)  # from listConversations
    with_alice.click()
    expect(carol.page.locator(f'ol[data-conversation="dm:{ALICE}"] [data-testid="message-item"]')).to_have_count(
        20, timeout=DELIVERY_TIMEOUT_MS
    )
    assert shown_texts(carol, ALICE) == texts[-20:]
    expect(carol.by("older-button")).to_be_visible()
    carol.by("older-button").click()
    expect(carol.by("history-start")).to_be_visible(timeout=DELIVERY_TIMEOUT_MS)
    expect(carol.by("older-button")).to_be_hidden()
    assert shown_texts(carol, ALICE) == texts  # in order, once each
    expect(carol.items("sent")).to_have_count(0)  # all Alice's
