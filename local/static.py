"""The browser client's files (web/), served from the runtime's origin, with the stage's config.json beside them
(cdk/web_config.py builds it for the local runtime and for the stack alike)."""

from pathlib import Path
from typing import Any

from aiohttp import web

from cdk.web_config import CONFIG_FILE


class StaticFiles:
    def __init__(self, web_dir: Path | None, *, settings: dict[str, Any] | None = None):
        """``settings``: config.json's content (None: no config.json, the page then works from its URL)."""
        self._web_dir = web_dir.resolve() if web_dir else None
        self._settings = settings

    def add_routes(self, app: web.Application) -> None:
        """A catch-all GET: add it after every other API's routes."""
        if self._settings is not None:
            app.router.add_get(f"/{CONFIG_FILE}", self._config)
        app.router.add_get("/{path:.*}", self._static)

    async def _config(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self._settings, headers={"Cache-Control": "no-cache"})

    async def _static(self, request: web.Request) -> web.StreamResponse:
        target = self._file(request.match_info["path"] or "index.html")
        if target is None:
            return web.json_response({"message": "Not Found"}, status=404)
        return web.FileResponse(target, headers={"Cache-Control": "no-cache"})

    def _file(self, relative: str) -> Path | None:
        """The file under web/ a path names; None for anything else, including paths no file
        system accepts (a NUL byte, a segment over the 255 bytes a file name may have)."""
        if self._web_dir is None:
            return None
        try:
            target = (self._web_dir / relative).resolve()
            found = target.is_relative_to(self._web_dir) and target.is_file()
        except (ValueError, OSError):
            return None
        return target if found else None
