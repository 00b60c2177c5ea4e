"""The web client signed in on the local runtime's sign-in stage (dev, auth cognito), as `make dev` serves it: the
page and its config.json from the runtime, Cognito's JSON API through the runtime's own origin, users from
`python -m local users add`. People by name, a second tab of the same user, a wrong password, a name that is no
user."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.e2e.test_web_client import DELIVERY_TIMEOUT_MS, ChatPage, browser, browser_tabs, expect  # noqa: F401

pytestmark = pytest.mark.browser
PASSWORD = "Web-users-password-1"
ALICE, BOB = "webalice", "webbob"


@pytest.fixture(scope="module")
def users(signed_in_runtime) -> None:
    for name in (ALICE, BOB):
        added = signed_in_runtime.local_cli("users", "add", name, "--password", PASSWORD)
        assert added.returncode == 0, added.stderr


@pytest.fixture
def open_tab(browser, signed_in_runtime, users) -> Iterator[Callable[..., ChatPage]]:  # noqa: F811
    """A tab of its own browser context (its own sessionStorage) on the runtime's page, signed in as ``name``."""
    with browser_tabs(browser) as new_tab:

        def open_one(name: str, password: str = PASSWORD) -> ChatPage:
            chat = new_tab()
            chat.page.goto(f"{signed_in_runtime.http_url}/")
            chat.by("username-input").fill(name)
            chat.by("password-input").fill(password)
            chat.by("password-input").press("Enter")
            return chat

        yield open_one


def test_a_message_to_a_user_by_name_reaches_them_and_the_senders_other_tab_sees_both_sides(open_tab):
    alice, alice_again, bob = open_tab(ALICE), open_tab(ALICE), open_tab(BOB)
    for chat, name in ((alice, ALICE), (alice_again, ALICE), (bob, BOB)):
        chat.wait_for_id()
        expect(chat.by("signed-in-name")).to_have_text(name)

    alice.send(BOB, "hello bob, from alice's first tab")
    received = bob.item_with_text("received", "hello bob, from alice's first tab")
    expect(received).to_be_visible(timeout=DELIVERY_TIMEOUT_MS)
    expect(received.get_by_test_id("message-sender")).to_have_text(f"From {ALICE}")
    expect(alice.item_with_text("sent", "hello bob, from alice's first tab")).to_have_attribute("data-status", "sent")
    elsewhere = alice_again.item_with_text("sent", "hello bob, from alice's first tab")
    expect(elsewhere).to_be_visible(timeout=DELIVERY_TIMEOUT_MS)
    expect(elsewhere).to_have_attribute("data-origin", "elsewhere")
    expect(elsewhere.get_by_test_id("message-sender")).to_have_text("You")

    received.get_by_test_id("reply-button").click()  # Reply answers the sender's name
    expect(bob.by("recipients-input")).to_have_value(ALICE)
    bob.by("message-input").fill("hi alice, on every tab")
    bob.by("send-button").click()
    for tab in (alice, alice_again):
        reply = tab.item_with_text("received", "hi alice, on every tab")
        expect(reply).to_be_visible(timeout=DELIVERY_TIMEOUT_MS)
        expect(reply.get_by_test_id("message-sender")).to_have_text(f"From {BOB}")
    assert alice.by("connection-id").text_content() != alice_again.by("connection-id").text_content()


def test_a_wrong_password_is_refused_clearly_and_nothing_connects(open_tab):
    chat = open_tab(ALICE, "Not-the-password-1")

    expect(chat.by("sign-in-feedback")).to_have_text("Wrong username or password.")
    expect(chat.by("status")).to_have_attribute("data-state", "idle")
    expect(chat.by("connection-id")).to_have_attribute("data-live", "false")


def test_a_name_that_is_no_user_is_refused_and_the_text_comes_back(open_tab):
    chat = open_tab(ALICE)
    chat.wait_for_id()

    chat.send("nobody-of-this-stage", "is anyone there")

    expect(chat.by("compose-feedback")).to_contain_text("no user is called 'nobody-of-this-stage'")
    expect(chat.by("message-input")).to_have_value("is anyone there")
