"""Watches the sources synthesis reads (cdk/, lambdas/, statemachines/, cdk.json) while the runtime serves.

A poll of modification times every quarter second, not inotify (watchfiles and the like): it needs
no dependency, works the same on every OS and on mounted or network filesystems where change events
are not delivered, and the tree is small (a snapshot of this project's few dozen source files takes
0.5 ms here, a few ms on a loaded 2-core machine: about 1 % of one core at this rate). A handler edit
is served without a synthesis in well under a second, so the poll is a fair part of the wait: a save
is served 0.25-0.5 s after it lands, plus the reload.
"""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from local.synth import PROJECT_ROOT, source_snapshot

POLL_SECONDS = 0.25


async def source_changes(
    root: Path = PROJECT_ROOT, *, since: dict[str, int] | None = None, poll_seconds: float = POLL_SECONDS
) -> AsyncIterator[list[str]]:
    """Yields the paths that changed (added, edited or deleted) since the snapshot ``since`` (default:
    now), once an editor has finished writing: when two polls in a row see the same files."""
    seen = since if since is not None else await asyncio.to_thread(source_snapshot, root)
    while True:
        await asyncio.sleep(poll_seconds)
        current = await asyncio.to_thread(source_snapshot, root)
        if current == seen:
            continue
        while (settled := await _after(root, poll_seconds)) != current:
            current = settled
        changed = sorted(path for path in seen.keys() | current.keys() if seen.get(path) != current.get(path))
        seen = current
        yield changed


async def _after(root: Path, seconds: float) -> dict[str, int]:
    await asyncio.sleep(seconds)
    return await asyncio.to_thread(source_snapshot, root)
