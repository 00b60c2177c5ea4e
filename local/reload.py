"""Edits while the runtime serves: each settled change to the sources is synthesized and served.

An edit that breaks the synthesis (or the template) prints why, in one line, and the previous
version keeps serving.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

from local.console import Console
from local.synth import ASSEMBLY_DIR, SynthError, stack_name_for, synthesize_async
from local.template import StackModel, load_stack
from local.watch import source_changes


class Reloadable(Protocol):
    async def reload(self, model: StackModel) -> str: ...


async def reload_on_changes(
    runtime: Reloadable, console: Console, stage: str, *, since: dict[str, int], on_reload: Callable[[], None]
) -> None:
    """Reloads on each change after the snapshot ``since`` (taken before the served version was built,
    so that an edit made while it started is served too)."""
    async for changed in source_changes(since=since):
        started = time.monotonic()
        what = describe_changes(changed)
        console.info(f"{what} changed: synthesizing …")
        try:
            await synthesize_async(stage)
            model = await asyncio.to_thread(load_stack, ASSEMBLY_DIR, stack_name_for(stage))
            outcome = await runtime.reload(model)
        except SynthError as error:
            console.info(f"reload failed: {error.summary()}; still serving the previous version")
            continue
        except Exception as error:  # the template or the services refused it: keep serving
            console.info(f"reload failed: {type(error).__name__}: {error}; still serving the previous version")
            continue
        on_reload()
        console.info(f"reloaded ({what}) in {time.monotonic() - started:.1f} s: {outcome}")


def describe_changes(changed: list[str], shown: int = 3) -> str:
    names = ", ".join(changed[:shown])
    return names if len(changed) <= shown else f"{names} and {len(changed) - shown} more"
