"""Edits while the runtime serves: each settled change to the sources is served.

A change confined to lambdas/ (the functions' code asset, nothing else) is served from a snapshot of
the sources without a synthesis (local.code_assets); any other change is synthesized first. An edit
that breaks the synthesis (or the template) prints why, in one line, and the previous version keeps
serving.
"""

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from local.code_assets import CODE_DIR, functions_built_from, only_code_changed, serving_code, snapshot
from local.console import Console
from local.synth import ASSEMBLY_DIR, SynthError, stack_name_for, synthesize_async
from local.template import StackModel, load_stack
from local.watch import source_changes


class Reloadable(Protocol):
    model: StackModel

    async def reload(self, model: StackModel) -> str: ...


async def reload_on_changes(
    runtime: Reloadable,
    console: Console,
    stage: str,
    *,
    since: dict[str, int],
    on_reload: Callable[[], None],
    snapshots: Path,
) -> None:
    """Reloads on each change after the snapshot ``since`` (taken before the served version was built,
    so that an edit made while it started is served too); copies of lambdas/ go under ``snapshots``."""
    from_code_dir = await asyncio.to_thread(functions_built_from, runtime.model)
    async for changed in source_changes(since=since):
        started = time.monotonic()
        what = describe_changes(changed)
        code_only = bool(from_code_dir) and only_code_changed(changed)
        if not code_only:
            console.info(f"{what} changed: synthesizing …")
        try:
            if code_only:
                code = await asyncio.to_thread(snapshot, CODE_DIR, snapshots)
                model = serving_code(runtime.model, from_code_dir, code)
            else:
                await synthesize_async(stage)
                model = await asyncio.to_thread(load_stack, ASSEMBLY_DIR, stack_name_for(stage))
            outcome = await runtime.reload(model)
        except SynthError as error:
            console.info(f"reload failed: {error.summary()}; still serving the previous version")
            continue
        except Exception as error:  # the template or the services refused it: keep serving
            console.info(f"reload failed: {type(error).__name__}: {error}; still serving the previous version")
            continue
        if not code_only:
            from_code_dir = await asyncio.to_thread(functions_built_from, model)
        on_reload()
        how = " without synthesis (code only)" if code_only else ""
        console.info(f"reloaded ({what}) in {time.monotonic() - started:.1f} s{how}: {outcome}")


def describe_changes(changed: list[str], shown: int = 3) -> str:
    names = ", ".join(changed[:shown])
    return names if len(changed) <= shown else f"{names} and {len(changed) - shown} more"
