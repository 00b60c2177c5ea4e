"""The browser client's files (web/), served from the runtime's origin."""

from pathlib import Path

from aiohttp import web


class StaticFiles:
    def __init__(self, web_dir: Path | None):
        self._web_dir = web_dir.resolve() if web_dir else None

    def add_routes(self, app: web.Application) -> None:
        """A catch-all GET: add it after every other API's routes."""
        app.router.add_get("/{path:.*}", self._static)

    async def _static(self, request: web.Request) -> web.StreamResponse:
        if self._web_dir is None:
            raise web.HTTPNotFound()
        relative = request.match_info["path"] or "index.html"
        target = (self._web_dir / relative).resolve()
        if not target.is_relative_to(self._web_dir) or not target.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(target, headers={"Cache-Control": "no-cache"})
