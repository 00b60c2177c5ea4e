"""web/ served as a stage's CloudFront distribution serves its bucket: the files the stack deploys, the stage's
config.json and the Content-Security-Policy that follows from it (cdk/web_hosting.py, cdk/web_config.py)."""

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator

from cdk.web_config import CONFIG_FILE, content_security_policy
from cdk.web_hosting import NOT_SERVED, WEB_DIR


@contextlib.contextmanager
def serving_like_a_distribution(settings: dict) -> Iterator[str]:
    """The page's origin (http://127.0.0.1:<port>) while the block runs; ``settings`` is config.json's content."""
    policy = content_security_policy(settings)

    class Distribution(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(WEB_DIR), **kwargs)

        def do_GET(self):
            name = self.path.split("?")[0].lstrip("/")
            if name == CONFIG_FILE:
                body = json.dumps(settings).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif name in NOT_SERVED:
                self.send_error(404)
            else:
                super().do_GET()

        def end_headers(self):
            self.send_header("Content-Security-Policy", policy)
            super().end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Distribution)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
