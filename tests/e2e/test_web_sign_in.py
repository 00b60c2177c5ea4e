"""The web client's sign-in in Chromium, against moto's Cognito (the same implementation the local runtime runs)
through the JSON API the page calls on AWS. The page is served as a deployed stage serves it: web/ with a
config.json whose auth is cognito (cdk/web_config.py), naming moto's endpoint and the local runtime's WebSocket,
and the Content-Security-Policy that follows from it.

What the page does with the connection once signed in is the WebSocket's concern: these tests check what the
page opens (its ?token= is the signed-in user's current ID token) and what it shows and keeps, not what a
server does with the token.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from cdk.web_config import cognito_auth, page_config
from tests.conftest import REGION
from tests.e2e.cognito_server import CognitoServer, cognito_server
from tests.e2e.distribution import serving_like_a_distribution
from tests.e2e.test_web_client import ChatPage, browser, browser_tabs, expect  # noqa: F401 (browser: the module's fixture)

pytestmark = pytest.mark.browser
PASSWORD = "Correct-Horse-Battery-1"


@dataclass(frozen=True)
class SignInStage:
    page_url: str
    websocket_url: str
    cognito_endpoint: str


@pytest.fixture(scope="module")
def cognito() -> Iterator[CognitoServer]:
    """moto's Cognito with users alice and bob."""
    with cognito_server() as server:
        client = server.client()
        for name in ("alice", "bob"):
            client.admin_create_user(UserPoolId=server.user_pool_id, Username=name, MessageAction="SUPPRESS")
            client.admin_set_user_password(
                UserPoolId=server.user_pool_id, Username=name, Password=PASSWORD, Permanent=True
            )
        yield server


@pytest.fixture(scope="module", params=[True, False], ids=["self-sign-up", "no-self-sign-up"])
def stage(request, cognito, local_runtime) -> Iterator[SignInStage]:
    endpoint = cognito.endpoint
    auth = cognito_auth(
        region=REGION,
        user_pool_id=cognito.user_pool_id,
        client_id=cognito.client_id,
        self_sign_up=request.param,
        cognito_endpoint=endpoint,
    )
    # Served under the stage's Content-Security-Policy, which must let the page reach the Cognito endpoint.
    with serving_like_a_distribution(page_config(websocket_url=local_runtime.ws_url, auth=auth)) as url:
        yield SignInStage(page_url=url, websocket_url=local_runtime.ws_url, cognito_endpoint=endpoint)


@dataclass
class Tab:
    chat: ChatPage
    sockets: list[str]


@pytest.fixture
def open_tab(browser, stage) -> Iterator[Callable[[], Tab]]:  # noqa: F811 (browser: the imported fixture)
    with browser_tabs(browser) as new_tab:

        def open_one() -> Tab:
            tab = Tab(chat=new_tab(), sockets=[])
            tab.chat.page.on("websocket", lambda socket: tab.sockets.append(socket.url))
            tab.chat.page.goto(f"{stage.page_url}/")
            return tab

        yield open_one


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def sign_in(chat: ChatPage, username: str, password: str) -> None:
    chat.by("username-input").fill(username)
    chat.by("password-input").fill(password)
    chat.by("password-input").press("Enter")  # the keyboard alone signs in


def token_of(socket_url: str) -> str:
    (token,) = parse_qs(urlsplit(socket_url).query)["token"]
    return token


def test_nothing_connects_before_signing_in_and_a_wrong_password_says_so_clearly(open_tab):
    tab = open_tab()
    chat = tab.chat

    expect(chat.by("sign-in-panel")).to_be_visible()
    expect(chat.page.get_by_label("Username", exact=True)).to_be_focused()
    expect(chat.by("status")).to_contain_text("sign in to chat")
    sign_in(chat, "alice", "Not-The-Password-1")

    expect(chat.by("sign-in-feedback")).to_have_text("Wrong username or password.")
    expect(chat.by("password-input")).to_have_attribute("aria-invalid", "true")
    expect(chat.by("password-input")).to_be_focused()
    expect(chat.by("signed-in-user")).to_be_hidden()
    assert tab.sockets == []


def test_signed_in_the_page_connects_with_the_users_id_token_which_it_shows_nowhere_and_keeps_in_the_tab_only(
    open_tab, stage
):
    tab = open_tab()
    chat = tab.chat
    sign_in(chat, "alice", PASSWORD)

    expect(chat.by("signed-in-name")).to_have_text("alice")
    expect(chat.by("sign-in-panel")).to_be_hidden()
    expect(chat.by("password-input")).to_have_value("")  # the password is not kept, not even in the form
    expect(chat.page.locator("#recipients-label")).to_have_text("To (usernames)")
    chat.page.wait_for_function("() => document.querySelector('[data-testid=status]').dataset.state !== 'idle'")
    (opened,) = tab.sockets
    assert opened.startswith(f"{stage.websocket_url}?token=")
    token = claims(token_of(opened))
    assert (token["cognito:username"], token["token_use"]) == ("alice", "id")
    assert "token" not in chat.page.url and "token" not in chat.by("url-input").input_value()
    assert "token=" not in (chat.by("status").text_content() or "")
    kept = chat.page.evaluate("() => ({session: {...sessionStorage}, local: {...localStorage}})")
    assert kept["local"] == {}
    assert json.loads(kept["session"]["chat.session"])["idToken"] == token_of(opened)


def test_a_reload_stays_signed_in_and_reconnects_with_the_kept_token_and_sign_out_forgets_it(open_tab):
    tab = open_tab()
    chat = tab.chat
    sign_in(chat, "bob", PASSWORD)
    expect(chat.by("signed-in-name")).to_have_text("bob")
    chat.page.wait_for_function("() => document.querySelector('[data-testid=status]').dataset.state !== 'idle'")

    cognito_calls: list[str] = []
    chat.page.on(
        "request", lambda r: cognito_calls.append(r.headers.get("x-amz-target", "")) if r.method == "POST" else None
    )
    chat.page.reload()
    expect(chat.by("signed-in-name")).to_have_text("bob")
    chat.page.wait_for_function("() => document.querySelector('[data-testid=status]').dataset.state !== 'idle'")
    assert len(tab.sockets) == 2 and token_of(tab.sockets[1]) == token_of(tab.sockets[0])
    assert not any(call.endswith("InitiateAuth") for call in cognito_calls)  # resumed, not signed in again

    chat.by("sign-out-button").click()
    expect(chat.by("sign-in-panel")).to_be_visible()
    expect(chat.by("sign-in-feedback")).to_have_text("You have signed out.")
    expect(chat.by("status")).not_to_have_attribute("data-state", "open")
    assert chat.page.evaluate("() => ({...sessionStorage})") == {}
    chat.page.reload()
    expect(chat.by("sign-in-panel")).to_be_visible()
    assert len(tab.sockets) == 2


def test_create_an_account_is_offered_only_where_the_stage_allows_self_sign_up(open_tab, stage, request):
    chat = open_tab().chat
    allowed = request.node.callspec.params["stage"]
    expect(chat.by("sign-in-panel")).to_be_visible()
    if not allowed:
        expect(chat.by("sign-up-button")).to_be_hidden()
        return

    chat.by("username-input").fill("carol")
    chat.by("password-input").fill(PASSWORD)
    chat.by("sign-up-button").click()

    # The pool has no e-mail or phone to send a code to: the account waits for an administrator.
    expect(chat.by("sign-in-feedback")).to_have_text(
        "Account created. An administrator must confirm it before you can sign in."
    )
    expect(chat.by("confirm-row")).to_be_hidden()
