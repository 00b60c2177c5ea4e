"""The one guard in front of every patch of moto's internals.

Each patch declares what of moto it replaces and what it reads (its targets), each as it was in the
one moto release the patches were written against: present, of the same kind, with the same
signature (parameter names, kinds and defaults), the same object or the same value. ``apply`` checks
the release and every target of every patch before it installs any, so the interpreter never runs
half-patched, and one target is replaced by one patch at most, so no patch depends on the order in
which the others are installed.

A patch that changes when one of moto's modules is imported (``deferred_imports``) must be in place
before the other patches' targets are checked, since checking them imports moto's interpreter: it is
declared ``before_imports``, its targets are ``Source``s (a module's source, read without importing
it), and ``apply`` checks and installs it first. It changes nothing moto does once the module is
imported, so it stays installed when a later check refuses (the process then stops).

Adding a patch: declare its targets (``signature_of(value)`` gives the text to record), write its
install function, and list the Patch where it belongs (``repairs``: moto bugs the workflows need
fixed; ``speedups``: optional; ``hooks``: what the runtime itself needs to hear or bound).
"""

import importlib
import importlib.metadata
import importlib.util
import inspect
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# The release whose internals the patches were read from (pinned in pyproject.toml).
MOTO_VERSION = "5.2.5"

_ANY_VALUE = object()


class MotoPatchError(RuntimeError):
    """The installed moto is not MOTO_VERSION, or something a patch relies on changed: nothing was patched."""


def signature_of(value: Callable) -> str:
    """What a caller of ``value`` (or a replacement of it) depends on: its parameters' names, kinds and
    defaults, without annotations."""
    signature = inspect.signature(value)
    parameters = [parameter.replace(annotation=inspect.Parameter.empty) for parameter in signature.parameters.values()]
    return str(signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty))


def _import_object(reference: str) -> Any:
    """``package.module`` or ``package.module:attribute``."""
    module_name, _, attribute = reference.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


@dataclass(frozen=True)
class Target:
    """One attribute a patch replaces or reads: ``path`` inside ``module`` ("parse", "Class.method"),
    with what it must still be."""

    module: str
    path: str
    signature: str | None = None  # as signature_of writes it
    kind: type | None = None  # the attribute as stored, when that matters (a staticmethod)
    same_as: str | None = None  # the object it must be, as "package.module[:attribute]"
    value: Any = _ANY_VALUE  # the value it must equal
    # Anything else a patch relies on: (what is expected, in words; a test of the attribute).
    expect: tuple[str, Callable[[Any], bool]] | None = None

    def __str__(self) -> str:
        return f"{self.module}.{self.path}"

    @property
    def attribute(self) -> str:
        return self.path.rpartition(".")[2]

    def owner(self) -> Any:
        owner = importlib.import_module(self.module)
        for part in self.path.split(".")[:-1]:
            owner = getattr(owner, part)
        return owner

    def get(self) -> Any:
        return getattr(self.owner(), self.attribute)

    def stored(self) -> Any:
        """The attribute as its owner stores it (a staticmethod stays one): what puts it back."""
        return inspect.getattr_static(self.owner(), self.attribute)

    def replace(self, value: Any) -> None:
        setattr(self.owner(), self.attribute, value)

    def problem(self) -> str | None:
        """What differs from what the patches were written against, or None."""
        try:
            owner = self.owner()
            stored = inspect.getattr_static(owner, self.attribute)
        except ImportError as error:
            return f"{self}: no such module ({error})"
        except AttributeError:
            return f"{self}: not found"
        value = getattr(owner, self.attribute)
        if self.kind is not None and not isinstance(stored, self.kind):
            return f"{self}: a {type(stored).__name__}, expected a {self.kind.__name__}"
        if self.signature is not None:
            try:
                found = signature_of(value)
            except (TypeError, ValueError):
                return f"{self}: not callable, expected {self.signature}"
            if found != self.signature:
                return f"{self}: signature {found}, expected {self.signature}"
        if self.same_as is not None:
            try:
                expected = _import_object(self.same_as)
            except (ImportError, AttributeError):
                return f"{self}: {self.same_as} is gone"
            if value is not expected:
                return f"{self}: no longer {self.same_as}"
        if self.value is not _ANY_VALUE and value != self.value:
            return f"{self}: {value!r}, expected {self.value!r}"
        if self.expect is not None and not self.expect[1](value):
            return f"{self}: expected {self.expect[0]}"
        return None


@dataclass(frozen=True)
class Source:
    """A module's source file, which must still read ``text``: checked without importing the module."""

    module: str
    text: str

    def __str__(self) -> str:
        return self.module

    def problem(self) -> str | None:
        """What differs from what the patches were written against, or None."""
        try:
            spec = importlib.util.find_spec(self.module)  # imports the parent packages only
        except ImportError as error:
            return f"{self}: no such module ({error})"
        if spec is None or not spec.has_location:
            return f"{self}: no such module"
        with open(spec.origin, encoding="utf-8") as source:
            found = source.read()
        if found != self.text:
            return f"{self}: its source ({spec.origin}) is no longer {self.text!r}"
        return None


@dataclass(frozen=True)
class Patch:
    """One change to moto: what it replaces, what else it reads, and how it installs itself."""

    name: str
    replaces: tuple[Target | Source, ...]
    install: Callable[[], None]
    reads: tuple[Target | Source, ...] = ()
    # Installed before any other patch's targets are checked (they import moto's modules): a patch that changes
    # when a module is imported, whose targets are Sources.
    before_imports: bool = False


def check(patches: Sequence[Patch]) -> None:
    """Raise MotoPatchError naming every difference from MOTO_VERSION the patches would meet."""
    installed = importlib.metadata.version("moto")
    if installed != MOTO_VERSION:
        raise MotoPatchError(
            f"moto {installed} is installed, but local/stepfunctions/moto_patches patches the internals of moto "
            f"{MOTO_VERSION}: re-check each patch (and docs/moto-patches.md) against moto {installed}, "
            "then update MOTO_VERSION and the recorded targets"
        )
    problems = [
        f"{patch.name}: {problem}"
        for patch in patches
        for target in (*patch.replaces, *patch.reads)
        if (problem := target.problem()) is not None
    ]
    replaced = Counter(str(target) for patch in patches for target in patch.replaces)
    problems += [f"{target} is replaced by {count} patches" for target, count in replaced.items() if count > 1]
    if problems:
        raise MotoPatchError(
            f"moto {MOTO_VERSION}'s internals are not what the patches were written against; nothing was patched:\n  "
            + "\n  ".join(problems)
        )


def apply(patches: Sequence[Patch]) -> None:
    """Check every patch, then install them all (in any order: no two replace the same target); those
    ``before_imports`` are checked and installed first."""
    early = [patch for patch in patches if patch.before_imports]
    check(early)
    for patch in early:
        patch.install()
    check(patches)
    for patch in patches:
        if not patch.before_imports:
            patch.install()
