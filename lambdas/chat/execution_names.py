"""Step Functions execution names: 1-80 characters of A-Z, a-z, 0-9, '-' and '_'."""

import re

MAX_EXECUTION_NAME_LENGTH = 80
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")


def execution_name(*parts: str) -> str:
    """Join parts with '-', replacing characters Step Functions rejects, cut to the allowed length."""
    name = "-".join(_NOT_ALLOWED.sub("_", part) for part in parts if part)
    return name[:MAX_EXECUTION_NAME_LENGTH] or "execution"
