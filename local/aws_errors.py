"""The error response of AWS's JSON HTTP APIs, as botocore parses it (shared by the local APIs)."""

from aiohttp import web


def aws_error(status: int, code: str, message: str | None) -> web.Response:
    return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": code})
