"""The browser client in web/, driven in Debian's headless Chromium against the real local runtime.

The local runtime serves web/ at http://127.0.0.1:N/ and the chat at ws://127.0.0.1:N/<stage>
(the ``local_runtime`` fixture in tests/e2e/conftest.py). These tests need /usr/bin/chromium
(`make browser` installs it); without it they skip and say so. Playwright's own browser
downloads are never used.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit
from urllib.request import urlopen

import pytest

from cdk.web_config import CONFIG_FILE, page_config
from tests.e2e.distribution import serving_like_a_distribution

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install '.[dev]'")
expect = sync_api.expect

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Messages go through the fan-out workflow; give it room on a slow machine.
DELIVERY_TIMEOUT_MS = 30_000
expect.set_options(timeout=15_000)


class ChatPage:
    """One browser tab running the chat client, with the page's test hooks (data-testid)."""

    def __init__(self, page: sync_api.Page):
        self.page = page
        self.dialogs: list[str] = []
        self.page_errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _on_dialog(self, dialog: sync_api.Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def by(self, test_id: str) -> sync_api.Locator:
        return self.page.get_by_test_id(test_id)

    def wait_for_id(self) -> str:
        """The connection id the page shows once the server's connection frame has arrived."""
        expect(self.by("connection-id")).to_have_attribute("data-live", "true", timeout=DELIVERY_TIMEOUT_MS)
        expect(self.by("status")).to_have_attribute("data-state", "open")
        connection_id = (self.by("connection-id").text_content() or "").strip()
        assert connection_id
        return connection_id

    def send(self, recipients: str, message: str) -> None:
        self.by("recipients-input").fill(recipients)
        self.by("message-input").fill(message)
        self.by("send-button").click()

    def items(self, kind: str | None = None) -> sync_api.Locator:
        selector = '[data-testid="message-item"]' + (f'[data-kind="{kind}"]' if kind else "")
        return self.page.locator(selector)

    def item_with_text(self, kind: str, text: str) -> sync_api.Locator:
        return self.items(kind).filter(has=self.page.get_by_test_id("message-text").get_by_text(text, exact=True))

    def disconnect(self) -> None:
        self.by("disconnect-button").click()
        expect(self.by("status")).to_have_attribute("data-state", "closed", timeout=DELIVERY_TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM}: run `make browser` (Debian's chromium package via apt-get)"
        )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def stage_of(ws_url: str) -> str:
    return urlsplit(ws_url).path.strip("/")


@contextlib.contextmanager
def browser_tabs(browser: sync_api.Browser) -> Iterator[Callable[..., ChatPage]]:
    """Opens tabs, each in a fresh browser context (its own connection and sessionStorage); closes them all when
    the block ends, failing on any uncaught error in their pages."""
    contexts: list[sync_api.BrowserContext] = []
    pages: list[ChatPage] = []

    def open_tab(*, viewport: dict | None = None, **context_options) -> ChatPage:
        context = browser.new_context(viewport=viewport or {"width": 1000, "height": 900}, **context_options)
        contexts.append(context)
        chat = ChatPage(context.new_page())
        pages.append(chat)
        return chat

    yield open_tab
    errors = [error for chat in pages for error in chat.page_errors]
    for context in contexts:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def open_chat(browser, local_runtime) -> Iterator[Callable[..., ChatPage]]:
    """Opens the client in a fresh browser context (its own connection); closes them all afterwards."""
    with browser_tabs(browser) as open_tab:

        def open_page(query: str | None = None, **options) -> ChatPage:
            chat = open_tab(**options)
            if query is None:
                query = f"?url={quote(local_runtime.ws_url, safe='')}"
            chat.page.goto(f"{local_runtime.http_url}/{query}")
            return chat

        yield open_page


def test_page_connects_by_default_to_the_runtime_that_serves_it(open_chat, local_runtime):
    stage = stage_of(local_runtime.ws_url)
    chat = open_chat("" if stage == "dev" else f"?stage={quote(stage)}")

    connection_id = chat.wait_for_id()

    expect(chat.by("url-input")).to_have_value(local_runtime.ws_url)
    expect(chat.by("status")).to_contain_text("Connected")
    expect(chat.by("connection-id")).to_have_text(connection_id)
    expect(chat.by("copy-id-button")).to_be_enabled()
    expect(chat.by("reconnect-button")).to_be_hidden()
    expect(chat.page.get_by_role("log")).to_have_attribute("aria-live", "polite")


def test_two_pages_learn_their_ids_and_chat_both_ways(open_chat):
    alice, bob = open_chat(), open_chat()
    alice_id, bob_id = alice.wait_for_id(), bob.wait_for_id()
    assert alice_id != bob_id

    alice.send(bob_id, "Hello Bob, from Alice")

    sent = alice.item_with_text("sent", "Hello Bob, from Alice")
    expect(sent).to_have_attribute("data-status", "sent", timeout=DELIVERY_TIMEOUT_MS)
    expect(sent.get_by_test_id("message-recipients")).to_contain_text(bob_id)
    expect(sent.get_by_test_id("message-time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    received = bob.item_with_text("received", "Hello Bob, from Alice")
    expect(received).to_have_count(1, timeout=DELIVERY_TIMEOUT_MS)
    expect(received.get_by_test_id("message-sender")).to_contain_text(alice_id)
    expect(received.get_by_test_id("message-recipients")).to_have_text("to you")
    expect(received.get_by_test_id("message-time")).not_to_be_empty()
    expect(alice.by("message-input")).to_have_value("")  # cleared only because the send went out

    # Bob answers with the keyboard: Reply fills in Alice's id, Enter sends.
    received.get_by_test_id("reply-button").click()
    expect(bob.by("recipients-input")).to_have_value(alice_id)
    expect(bob.by("message-input")).to_be_focused()
    bob.page.keyboard.type("Hi Alice!")
    bob.page.keyboard.press("Enter")

    expect(alice.item_with_text("received", "Hi Alice!")).to_have_count(1, timeout=DELIVERY_TIMEOUT_MS)
    expect(bob.item_with_text("sent", "Hi Alice!")).to_have_attribute("data-status", "sent")
    # Each side shows each message exactly once.
    expect(alice.items()).to_have_count(2)
    expect(bob.items()).to_have_count(2)


def test_markup_in_a_message_is_shown_as_text_and_never_run(open_chat):
    alice, bob = open_chat(), open_chat()
    bob_id = (alice.wait_for_id(), bob.wait_for_id())[1]
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)"> <b>bold?</b> & "quotes"'
    scripts_before = bob.page.locator("script").count()

    alice.send(bob_id, payload)

    received = bob.items("received")
    expect(received).to_have_count(1, timeout=DELIVERY_TIMEOUT_MS)
    expect(alice.items("sent")).to_have_attribute("data-status", "sent")
    for chat, item in ((bob, received), (alice, alice.items("sent"))):
        assert item.get_by_test_id("message-text").text_content() == payload
        chat.page.wait_for_timeout(300)  # room for an injected onerror handler to fire, if there were one
        assert chat.dialogs == []
        assert chat.page.locator('[data-testid="message-list"] :is(script, img, b)').count() == 0
    assert bob.page.locator("script").count() == scripts_before


def test_sending_to_a_page_that_closed_says_the_recipient_is_not_reachable(open_chat):
    alice, bob = open_chat(), open_chat()
    alice.wait_for_id()
    bob_id = bob.wait_for_id()
    bob.disconnect()
    expect(bob.by("status")).to_contain_text("code 1000")
    expect(bob.by("reconnect-button")).to_be_visible()

    alice.send(bob_id, "Are you still there?")

    failure = alice.items("failure")
    expect(failure).to_have_count(1, timeout=DELIVERY_TIMEOUT_MS)
    expect(failure).to_have_attribute("data-recipient-id", bob_id)
    expect(failure.get_by_test_id("message-text")).to_contain_text(f"Recipient {bob_id} not reachable")
    expect(failure).to_contain_text("Are you still there?")
    sent = alice.item_with_text("sent", "Are you still there?")
    expect(sent.get_by_test_id("message-delivery")).to_contain_text(f"Not delivered to {bob_id}")

    # Reconnecting gives Bob a new id, which works again.
    bob.by("reconnect-button").click()
    expect(bob.by("connection-id")).not_to_have_text(bob_id, timeout=DELIVERY_TIMEOUT_MS)
    new_bob_id = bob.wait_for_id()
    assert new_bob_id != bob_id
    alice.send(new_bob_id, "Welcome back")
    expect(bob.item_with_text("received", "Welcome back")).to_have_count(1, timeout=DELIVERY_TIMEOUT_MS)


def test_several_recipients_get_one_message_and_the_gone_one_is_reported(open_chat):
    alice, bob, carol, dave = open_chat(), open_chat(), open_chat(), open_chat()
    alice.wait_for_id()
    bob_id, carol_id, dave_id = bob.wait_for_id(), carol.wait_for_id(), dave.wait_for_id()
    dave.disconnect()

    # Commas, spaces and new lines all separate ids; a repeated id counts once.
    alice.send(f"{bob_id},\n{carol_id}  {dave_id}, {bob_id}", "Hello all")

    for chat in (bob, carol):
        received = chat.item_with_text("received", "Hello all")
        expect(received).to_have_count(1, timeout=DELIVERY_TIMEOUT_MS)
        expect(received.get_by_test_id("message-recipients")).to_contain_text("to you and")
    failure = alice.items("failure")
    expect(failure).to_have_count(1, timeout=DELIVERY_TIMEOUT_MS)
    expect(failure.get_by_test_id("message-text")).to_contain_text(f"Recipient {dave_id} not reachable")
    expect(alice.item_with_text("sent", "Hello all").get_by_test_id("message-recipients")).to_have_text(
        f"to {bob_id}, {carol_id}, {dave_id}"
    )


def test_refused_or_unsendable_input_never_loses_the_typed_text(open_chat):
    alice, bob = open_chat(), open_chat()
    alice.wait_for_id()
    bob_id = bob.wait_for_id()
    feedback = alice.by("compose-feedback")

    # No recipient: the page says so and keeps the message.
    alice.send("", "A message worth keeping")
    expect(feedback).to_contain_text("recipient")
    expect(alice.by("message-input")).to_have_value("A message worth keeping")
    expect(alice.by("recipients-input")).to_be_focused()
    expect(alice.by("recipients-input")).to_have_attribute("aria-invalid", "true")

    # An empty (blank) message: refused before it is sent; nothing typed is thrown away.
    alice.send(bob_id, "   ")
    expect(feedback).to_have_text("Type a message first.")
    expect(alice.by("message-input")).to_have_value("   ")

    # Refused by the server (an id longer than any connection id): the text comes back.
    too_long_id = "x" * 129
    alice.send(too_long_id, "Refused by the server")
    error = alice.items("error")
    expect(error).to_have_count(1, timeout=DELIVERY_TIMEOUT_MS)
    expect(error.get_by_test_id("message-text")).to_contain_text("The server did not accept the message")
    expect(error).to_have_attribute("data-code", "invalid_request")
    expect(alice.item_with_text("sent", "Refused by the server")).to_have_attribute("data-status", "not-sent")
    expect(alice.by("message-input")).to_have_value("Refused by the server")
    expect(feedback).to_contain_text("Not sent")

    # The socket is closed: the page says why and keeps the text.
    alice.disconnect()
    alice.send(bob_id, "Typed while offline")
    expect(feedback).to_contain_text("the connection is closed")
    expect(alice.by("message-input")).to_have_value("Typed while offline")
    expect(alice.item_with_text("sent", "Typed while offline")).to_have_count(0)
    assert bob.item_with_text("received", "Typed while offline").count() == 0


def test_the_accepted_answer_names_the_pending_message_before_its_echo(open_chat, local_runtime):
    """The real runtime's frames reach the page, except the sender's own copy of its message: the sent
    line learns its message_id from the accepted frame alone."""
    chat = open_chat(f"?connect=0&url={quote(local_runtime.ws_url, safe='')}")
    accepted: list[dict] = []

    def hold_back_own_copy(route) -> None:
        server = route.connect_to_server()
        route.on_message(server.send)

        def to_page(data) -> None:
            frame = json.loads(data)
            if frame.get("type") == "accepted":
                accepted.append(frame)
            if frame.get("type") != "message":
                route.send(data)

        server.on_message(to_page)

    chat.page.route_web_socket(re.compile(r"^ws://"), hold_back_own_copy)
    chat.by("connect-button").click()
    own_id = chat.wait_for_id()

    chat.send(own_id, "Held back")

    sent = chat.item_with_text("sent", "Held back")
    expect(sent).to_have_attribute("data-status", "accepted", timeout=DELIVERY_TIMEOUT_MS)
    (frame,) = accepted
    expect(sent).to_have_attribute("data-message-id", frame["message_id"])
    expect(sent.get_by_test_id("message-state")).to_have_text(" · accepted")
    expect(chat.items()).to_have_count(1)  # no notice about a frame the page does not know


def test_a_refusal_is_pinned_on_the_message_it_concerns_not_the_oldest_pending_one(open_chat):
    """Two sends in a row, the first fine and the second refused: the echoed client_message_id
    pairs the refusal with the second, even though the first still awaits its echo."""
    alice, bob = open_chat(), open_chat()
    alice.wait_for_id()
    bob_id = bob.wait_for_id()

    alice.by("recipients-input").fill(bob_id)
    alice.by("message-input").fill("First, fine")
    alice.page.keyboard.press("Enter")  # focus is in the message box after fill
    alice.by("recipients-input").fill("x" * 129)
    alice.by("message-input").fill("Second, refused")
    alice.by("send-button").click()

    refused = alice.item_with_text("sent", "Second, refused")
    expect(refused).to_have_attribute("data-status", "not-sent", timeout=DELIVERY_TIMEOUT_MS)
    expect(alice.item_with_text("sent", "First, fine")).to_have_attribute(
        "data-status", "sent", timeout=DELIVERY_TIMEOUT_MS
    )
    expect(alice.by("message-input")).to_have_value("Second, refused")
    expect(bob.item_with_text("received", "First, fine")).to_have_count(1, timeout=DELIVERY_TIMEOUT_MS)


def test_the_url_field_connects_anywhere_and_explains_bad_urls(open_chat, local_runtime):
    chat = open_chat()
    first_id = chat.wait_for_id()
    url_input, connect = chat.by("url-input"), chat.by("connect-button")

    url_input.fill("not a url")
    connect.click()
    expect(chat.by("url-feedback")).to_contain_text("is not a URL")
    expect(url_input).to_have_attribute("aria-invalid", "true")
    url_input.fill("ftp://example.com/dev")
    connect.click()
    expect(chat.by("url-feedback")).to_contain_text("ws:// or wss://")
    expect(chat.by("connection-id")).to_have_text(first_id)  # a bad URL leaves the connection alone

    # Nothing listens on port 9: the connection fails and says how.
    url_input.fill("ws://127.0.0.1:9/dev")
    connect.click()
    expect(chat.by("status")).to_have_attribute("data-state", "closed", timeout=DELIVERY_TIMEOUT_MS)
    expect(chat.by("status")).to_contain_text("code 1006")
    expect(chat.by("reconnect-button")).to_be_visible()
    assert "url=ws%3A%2F%2F127.0.0.1%3A9%2Fdev" in chat.page.url

    # An http:// address of the stage is taken as its ws:// address.
    http_stage = local_runtime.ws_url.replace("ws://", "http://")
    url_input.fill(f"  {http_stage}  ")
    url_input.press("Enter")
    second_id = chat.wait_for_id()
    assert second_id != first_id
    expect(url_input).to_have_value(local_runtime.ws_url)


def test_copy_button_puts_the_id_on_the_clipboard(open_chat, local_runtime):
    chat = open_chat()
    chat.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=local_runtime.http_url)
    connection_id = chat.wait_for_id()

    chat.by("copy-id-button").click()

    expect(chat.by("copy-feedback")).to_have_text("Copied.")
    assert chat.page.evaluate("navigator.clipboard.readText()") == connection_id


def test_keyboard_only_use_with_labels_and_visible_focus(open_chat):
    alice, bob = open_chat(), open_chat()
    alice.wait_for_id()
    bob_id = bob.wait_for_id()
    page = alice.page
    page.locator("body").focus()

    # The first Tab reaches the skip link, which jumps to the message box.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the message box")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Message", exact=True)).to_be_focused()

    # Shift+Tab goes back to the recipients field; Tab order follows the page.
    page.keyboard.press("Shift+Tab")
    recipients = page.get_by_label("To (connection ids)")
    expect(recipients).to_be_focused()
    outline = recipients.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline not in ("", "none"), "focused fields must show a visible focus ring"
    page.keyboard.type(bob_id)
    page.keyboard.press("Tab")
    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")  # a new line, not a send
    page.keyboard.type("second line")
    expect(page.get_by_label("Message", exact=True)).to_have_value("first line\nsecond line")
    page.keyboard.press("Control+Enter")

    received = bob.items("received")
    expect(received).to_have_count(1, timeout=DELIVERY_TIMEOUT_MS)
    assert received.get_by_test_id("message-text").text_content() == "first line\nsecond line"
    page.keyboard.press("Tab")
    expect(alice.by("send-button")).to_be_focused()
    for label in ("WebSocket URL", "To (connection ids)", "Message"):
        expect(page.get_by_label(label, exact=True)).to_be_visible()


def test_readable_on_a_narrow_phone_screen(open_chat):
    alice = open_chat(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    bob = open_chat()
    alice.wait_for_id()
    bob_id = bob.wait_for_id()
    long_word = "unbroken" * 40

    alice.send(bob_id, f"A long line: {long_word}")

    expect(alice.items("sent")).to_have_attribute("data-status", "sent", timeout=DELIVERY_TIMEOUT_MS)
    overflow = alice.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a 360px screen"
    for test_id in ("message-input", "send-button", "recipients-input", "connection-id"):
        box = alice.by(test_id).bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 360


WINDOW_SIZES = {"laptop-1366x657": (1366, 657), "laptop-1280x720": (1280, 720), "phone-390x844": (390, 844)}
PHONE_WIDTH = 500  # narrower windows are opened as a phone (touch, mobile viewport)


@pytest.mark.parametrize("size", WINDOW_SIZES.values(), ids=WINDOW_SIZES)
def test_the_conversation_gets_most_of_the_window_and_its_last_message_and_the_compose_box_show(open_chat, size):
    width, height = size
    phone = {"is_mobile": True, "has_touch": True} if width < PHONE_WIDTH else {}
    chat = open_chat(viewport={"width": width, "height": height}, **phone)
    own_id = chat.wait_for_id()
    lines = [f"Line {n} of a conversation long enough to fill the window" for n in range(15)]
    for line in lines:
        chat.send(own_id, line)
    expect(chat.item_with_text("sent", lines[-1])).to_have_attribute("data-status", "sent", timeout=DELIVERY_TIMEOUT_MS)

    def box(locator: sync_api.Locator) -> dict:
        found = locator.bounding_box()
        assert found is not None
        return found

    page_scroll = chat.page.evaluate("document.documentElement.scrollHeight - window.innerHeight")
    conversation = box(chat.page.locator("section.conversation"))
    log = box(chat.page.get_by_role("log"))
    last = box(chat.items().last)
    assert page_scroll <= 0, f"the page itself scrolls by {page_scroll}px at {width}x{height}"
    assert conversation["height"] >= 0.5 * height, f"the conversation has {conversation['height']:.0f} of {height}px"
    assert log["y"] <= last["y"] and last["y"] + last["height"] <= log["y"] + log["height"] + 1, (last, log)
    for test_id in ("recipients-input", "message-input", "send-button"):
        field = box(chat.by(test_id))
        assert field["y"] >= 0 and field["y"] + field["height"] <= height, (test_id, field)


def test_in_a_short_window_the_url_form_folds_once_connected_and_change_url_unfolds_it(open_chat):
    chat = open_chat(viewport={"width": 1366, "height": 657})
    chat.wait_for_id()
    expect(chat.by("url-input")).to_be_hidden()

    chat.by("change-url-button").click()

    expect(chat.by("url-input")).to_be_focused()
    expect(chat.by("change-url-button")).to_have_attribute("aria-expanded", "true")
    chat.by("disconnect-button").click()
    expect(chat.by("status")).to_have_attribute("data-state", "closed")
    expect(chat.by("reconnect-button")).to_be_visible()


def test_the_page_loads_without_a_failed_request_or_a_console_error(open_chat, local_runtime):
    """Browsers ask for /favicon.ico by themselves: it is served, so no load logs a 404."""
    chat = open_chat(f"?connect=0&url={quote(local_runtime.ws_url, safe='')}", viewport=None)
    failed: list[str] = []
    chat.page.on("console", lambda message: failed.append(message.text) if message.type == "error" else None)
    chat.page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    chat.page.reload(wait_until="networkidle")

    favicon = chat.page.request.get(f"{local_runtime.http_url}/favicon.ico")

    assert favicon.status == 200
    assert favicon.headers["content-type"].startswith("image/")
    assert failed == []
    expect(chat.by("status")).to_have_attribute("data-state", "idle")


def test_opened_from_disk_the_page_says_it_must_be_served_over_http(browser):
    """Chromium does not load ES modules from file:// (CORS), so the notice comes from the page itself."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto((Path(__file__).resolve().parents[2] / "web" / "index.html").as_uri())

        notice = page.get_by_test_id("file-notice")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("must be served over HTTP")
        expect(notice).to_contain_text("make dev")
    finally:
        context.close()


def test_served_over_http_the_page_shows_no_file_notice(open_chat):
    chat = open_chat()
    chat.wait_for_id()
    expect(chat.by("file-notice")).to_be_hidden()


def test_the_runtime_serves_config_json_as_the_stack_deploys_it(local_runtime):
    """The same document cdk/web_config.py builds for the stage's bucket, naming this runtime's endpoint."""
    with urlopen(f"{local_runtime.http_url}/{CONFIG_FILE}", timeout=10) as response:
        assert response.headers["Cache-Control"] == "no-cache"
        assert json.load(response) == page_config(websocket_url=local_runtime.ws_url)


@pytest.fixture
def deployed_page(local_runtime) -> Iterator[str]:
    """web/ served as CloudFront serves a deployed stage's bucket (tests/e2e/distribution.py), its config.json
    naming the local runtime's stage."""
    with serving_like_a_distribution(page_config(websocket_url=local_runtime.ws_url)) as url:
        yield url


def test_the_deployed_page_connects_to_its_stage_from_config_json_under_its_content_security_policy(
    browser, deployed_page, local_runtime
):
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    try:
        chat = ChatPage(context.new_page())
        errors: list[str] = []
        chat.page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        chat.page.goto(f"{deployed_page}/")

        chat.wait_for_id()
        expect(chat.by("url-input")).to_have_value(local_runtime.ws_url)
        assert urlsplit(chat.page.url).query == ""  # its own stage: nothing to keep in the address bar
        assert errors == [] and chat.page_errors == []

        # Anywhere else is refused by the policy: the page is its stage's client.
        chat.by("url-input").fill("ws://127.0.0.1:9/dev")
        chat.by("connect-button").click()
        expect(chat.by("status")).to_have_attribute("data-state", "closed", timeout=DELIVERY_TIMEOUT_MS)
        expect(chat.by("status")).to_contain_text("security policy")
        expect(chat.by("reconnect-button")).to_be_visible()
        assert any("Content Security Policy" in error for error in errors), errors
    finally:
        context.close()


def test_on_a_stage_without_sign_in_the_page_asks_for_nothing_and_connects_without_a_token(open_chat, local_runtime):
    """config.json's auth is none here: no sign-in panel, connection ids in To, no ?token= on the socket."""
    sockets: list[str] = []
    chat = open_chat("?connect=0")
    chat.page.on("websocket", lambda socket: sockets.append(socket.url))
    chat.by("connect-button").click()
    chat.wait_for_id()
    chat.disconnect()
    chat.by("reconnect-button").click()
    chat.wait_for_id()

    expect(chat.by("sign-in-panel")).to_be_hidden()
    expect(chat.by("signed-in-user")).to_be_hidden()
    expect(chat.page.locator("#recipients-label")).to_have_text("To (connection ids)")
    assert sockets == [local_runtime.ws_url] * 2  # the first connect and the reconnect: no token
