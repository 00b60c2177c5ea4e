"""moto's Step Functions interpreter as the local runtime runs it: ``repairs`` of moto bugs, the runtime's
``hooks`` and the routing of the state machines' own AWS calls (``own_services``) always, ``speedups`` and
``deferred_imports`` (moto's Batch and EC2 models imported when first used) unless LOCAL_MOTO_TUNING=off, all
behind one guard (``guard``):
on any other moto release, or when something a patch relies on changed, nothing is patched and the
Step Functions process stops with an error naming each difference."""

from collections.abc import Callable
from typing import Any

from local.stepfunctions.moto_patches import deferred_imports, guard, hooks, own_services, repairs, speedups
from local.stepfunctions.moto_patches.guard import MotoPatchError

__all__ = ["MotoPatchError", "apply", "every_patch"]


def every_patch(
    *,
    tuned: bool,
    started: Callable[[Any], None],
    ended: Callable[[Any], None],
    keep_executions: int,
) -> list[guard.Patch]:
    transport = speedups.api_gateway_transport() if tuned else repairs.send_with_requests
    return [
        *repairs.patches(api_gateway_transport=transport),
        *hooks.patches(started=started, ended=ended, keep_executions=keep_executions, compact_ended=tuned),
        *own_services.PATCHES,
        *(speedups.PATCHES if tuned else ()),
        *(deferred_imports.PATCHES if tuned else ()),
    ]


def apply(**options: Any) -> None:
    """Patch this process's moto (``every_patch``'s options), or raise MotoPatchError without patching anything."""
    guard.apply(every_patch(**options))
