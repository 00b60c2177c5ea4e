#!/usr/bin/env python3
"""Saves docs/screenshot-two-page-chat.png: two browser clients chatting through the local runtime.

Starts the real local runtime and Debian's headless Chromium through the browser test suite
(tests/e2e/test_web_client.py, with CHAT_SCREENSHOT=1). Needs /usr/bin/chromium: `make browser`.
Usage: .venv/bin/python scripts/screenshot.py
"""

import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = PROJECT_ROOT / "docs" / "screenshot-two-page-chat.png"


def main() -> int:
    if not Path("/usr/bin/chromium").exists():
        print("Chromium is not installed at /usr/bin/chromium: run `make browser` first", file=sys.stderr)
        return 1
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/e2e/test_web_client.py::test_save_screenshot_of_a_two_page_conversation",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    result = subprocess.run(command, cwd=PROJECT_ROOT, env={**os.environ, "CHAT_SCREENSHOT": "1"}, check=False)
    if result.returncode == 0:
        print(f"saved {SCREENSHOT.relative_to(PROJECT_ROOT)}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
