"""moto's Batch and EC2 models, imported when first used rather than whenever the interpreter is.

moto's Step Functions parser imports ``moto.batch.utils`` (the Batch task's job statuses). Importing it runs the
package's ``__init__``, whose one line imports Batch's models, which import EC2's, and EC2's models load every
instance type and every region's instance-type offerings from moto's JSON files. Measured in the Step Functions
process (tracemalloc, /proc/PID/status): 56 MB of parsed JSON, about 100 MB of its resident memory, for services
no state machine of the stack calls. With this patch the package ``moto.batch`` is made from its spec without
running its ``__init__``: its submodules import as usual, and the first attribute asked of the package itself
(``batch_backends``, what moto's server and ``moto.backends`` ask for) runs the ``__init__`` then. So a Batch or
EC2 call made to this process, or a Batch task, still finds every model; it only pays for them then.
"""

import importlib.util
import sys
import threading

from local.stepfunctions.moto_patches.guard import Patch, Source

DEFERRED_PACKAGE = "moto.batch"
_BATCH_INIT = Source(DEFERRED_PACKAGE, "from .models import batch_backends  # noqa: F401\n")


def defer_package(name: str) -> None:
    """The package ``name`` (not yet imported) is in sys.modules, its ``__init__`` run when an attribute of its own
    is first asked for; already imported, there is nothing left to defer."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    package = importlib.util.module_from_spec(spec)
    initialising = threading.RLock()
    initialised = []

    def __getattr__(attribute: str):  # only for what the package does not hold (yet)
        with initialising:
            if not initialised:
                initialised.append(True)
                spec.loader.exec_module(package)
        try:
            return package.__dict__[attribute]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}") from None

    package.__getattr__ = __getattr__
    parent, _, child = name.rpartition(".")
    sys.modules[name] = package
    setattr(sys.modules[parent], child, package)  # as the import system binds a submodule to its parent


PATCHES = [
    Patch(
        "moto's Batch and EC2 models are imported when first used",
        replaces=(_BATCH_INIT,),
        install=lambda: defer_package(DEFERRED_PACKAGE),
        before_imports=True,
    )
]
