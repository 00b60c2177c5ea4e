#!/usr/bin/env python3
"""Saves docs/screenshot-two-page-chat.png: two browser clients chatting through the local runtime.

A documentation tool, not a test (tests/e2e/test_web_client.py checks what the picture shows): it starts
`python -m local serve` on a free port, drives Debian's headless Chromium (`make browser`) through a short
conversation, saves the picture and stops the runtime.
Usage: .venv/bin/python scripts/screenshot.py
"""

import contextlib
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import expect, sync_playwright

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from local.state import read_state, state_file  # noqa: E402

SCREENSHOT = PROJECT_ROOT / "docs" / "screenshot-two-page-chat.png"
CHROMIUM = Path("/usr/bin/chromium")
STAGE = "dev"
TIMEOUT_MS = 30_000
PAGE_STYLE = (
    "body{margin:0;display:grid;grid-template-columns:1fr 1fr;gap:8px;background:#8a94a3;padding:8px;"
    "font:600 14px system-ui,sans-serif;color:#fff}figure{margin:0}figcaption{padding:0 0 4px 4px}"
    "iframe{width:100%;height:990px;border:0;border-radius:6px;background:#fff}"
)


@contextlib.contextmanager
def local_runtime() -> Iterator[str]:
    """The gateway URL of `python -m local serve --port 0` while the block runs."""
    with tempfile.TemporaryDirectory(prefix="screenshot-") as work:
        state_dir = Path(work)
        command = [sys.executable, "-m", "local", "serve", "--stage", STAGE, "--port", "0", "--quiet-history"]
        process = subprocess.Popen([*command, "--state-dir", str(state_dir)], cwd=PROJECT_ROOT)
        try:
            deadline = time.monotonic() + 240
            while (state := read_state(state_file(state_dir, STAGE))) is None:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the local runtime did not start")
                time.sleep(0.2)
            yield state.gateway_url
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)


def save_conversation(gateway_url: str) -> None:
    ws_url = gateway_url.replace("http://", "ws://", 1) + f"/{STAGE}"
    source = f"{gateway_url}/?url={quote(ws_url, safe='')}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 1040}).new_page()
        page.set_content(
            f"<!doctype html><style>{PAGE_STYLE}</style>"
            f'<figure><figcaption>Page A</figcaption><iframe id="a" src="{source}"></iframe></figure>'
            f'<figure><figcaption>Page B</figcaption><iframe id="b" src="{source}"></iframe></figure>'
        )
        a, b = page.frame_locator("#a"), page.frame_locator("#b")
        ids = {}
        for name, frame in (("a", a), ("b", b)):
            connection_id = frame.get_by_test_id("connection-id")
            expect(connection_id).to_have_attribute("data-live", "true", timeout=TIMEOUT_MS)
            ids[name] = connection_id.text_content()
        closed = browser.new_context().new_page()
        closed.goto(source)
        expect(closed.get_by_test_id("connection-id")).to_have_attribute("data-live", "true", timeout=TIMEOUT_MS)
        closed_id = closed.get_by_test_id("connection-id").text_content()
        closed.context.close()

        def say(frame, recipients: str, text: str) -> None:
            frame.get_by_test_id("recipients-input").fill(recipients)
            frame.get_by_test_id("message-input").fill(text)
            frame.get_by_test_id("send-button").click()
            for other in (a, b):
                shown = other.get_by_test_id("message-list").locator("li").filter(has_text=text)
                expect(shown).not_to_have_count(0, timeout=TIMEOUT_MS)

        say(a, ids["b"], "Hi! Is this the dev stage on your laptop too?")
        say(b, ids["a"], "Yes: `make dev`, then open http://127.0.0.1:3001/ twice.")
        say(a, f"{ids['b']}, {closed_id}", "Sending to you and to a tab I closed <script>alert(1)</script>")
        expect(a.locator('[data-kind="failure"]')).to_have_count(1, timeout=TIMEOUT_MS)
        b.get_by_test_id("message-input").fill("Shown as text, and the closed tab is reported. Nice.")
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENSHOT))
        browser.close()


def main() -> int:
    if not CHROMIUM.exists():
        print(f"Chromium is not installed at {CHROMIUM}: run `make browser` first", file=sys.stderr)
        return 1
    with local_runtime() as gateway_url:
        save_conversation(gateway_url)
    print(f"saved {SCREENSHOT.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
