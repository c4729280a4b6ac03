"""Integrity guard: runs inside the student's kernel, before any student code.

The hidden test cells run in the same Python process as the student's code, so a
submission could try to win by changing the objects the tests rely on:
``helpers.checks.check = lambda *a: None``, ``numpy.allclose = lambda *a, **k: True``,
``builtins.isinstance = ...``, patching IPython so that errors are not reported, and
so on. The guard does not try to make that impossible (nothing in-process can); it
makes it *visible* to the trusted grader, which then scores the notebook's autograded
cells zero and says why.

How:

1. ``autograder.kernel`` imports the trusted modules (``helpers.checks`` ...) from the
   trusted paths only, before the student's folder is on ``sys.path``.
2. :func:`arm` takes a snapshot: the identity of every public object in the protected
   modules (builtins, helpers, numpy, math, ...), the functions' code objects, the
   methods of the IPython / ipykernel / jupyter_client classes that carry results back
   to the grader, and ``sys.modules`` entries of the protected modules.
3. A PEP 578 audit hook (which cannot be removed once added) compares the snapshot
   before every ``exec`` (so before every cell) and when the grader's final probe runs,
   and flags on the spot the usual tools for getting around such checks: ``ctypes``,
   ``gc.get_referents``/``get_referrers``/``get_objects``, ``sys.settrace``/``setprofile``,
   ``sys._current_frames``, writing to ``/proc/*/mem``, swapping a protected
   function's ``__code__``.
4. Findings are written as signed JSON lines to a pipe only the grader reads. The
   key arrives through another pipe that is closed right after, so it exists only in
   the hook's closure. The grader also requires a signed answer to a final probe cell
   carrying a fresh nonce: a kernel whose machinery was replaced (so that no ``exec``
   happens any more) cannot produce it.

This module must not print anything (stderr would cost a test cell its points) and
must not raise from the hook for anything but its own bugs (a raise there would show
the hook's frame in a traceback).
"""
from __future__ import annotations

import builtins
import hashlib
import hmac
import json
import os
import sys
import types

MISSING = object()

# Module-name prefixes whose public objects are protected by identity.
PROTECTED_MODULE_PREFIXES = (
    "builtins", "helpers", "numpy", "math", "cmath", "operator", "functools", "itertools",
    "types", "copy", "numbers", "collections", "inspect", "ast", "json", "hmac", "hashlib",
    "os", "posix", "io", "_io", "traceback", "linecache", "warnings", "contextlib",
    "autograder", "IPython.core", "ipykernel", "jupyter_client.session", "zmq.sugar",
    "scipy",
)
# Of these, the grader's own plumbing: only their callables are compared (they keep
# caches and counters as module globals that change during a normal run).
CALLABLES_ONLY_PREFIXES = ("IPython.core", "ipykernel", "jupyter_client", "zmq", "warnings",
                           "linecache", "traceback", "os", "io", "_io", "inspect", "json",
                           "collections", "ast", "copy", "contextlib", "scipy")
# Module globals that legitimately change during a run.
VOLATILE_NAMES = frozenset({"__warningregistry__", "_cache", "environ", "__loader__"})
# Builtins that IPython itself swaps in and out around every execution.
IPYTHON_BUILTINS = frozenset({
    "input", "raw_input", "exit", "quit", "get_ipython", "display", "__IPYTHON__", "_", "__",
    "___", "help", "copyright", "credits", "license", "dreload", "__builtins__", "__spec__",
    "__loader__", "__debug__", "runfile", "getpass"})

TAMPER_EVENTS = frozenset({
    "gc.get_referents", "gc.get_referrers", "gc.get_objects",
    "sys.settrace", "sys.setprofile", "sys._current_frames", "sys._current_exceptions",
    "cpython.PyInterpreterState_Clear", "cpython._PySys_ClearAuditHooks",
})

_CALLABLE_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type,
                   types.ModuleType, classmethod, staticmethod, property,
                   types.MethodDescriptorType, types.WrapperDescriptorType,
                   types.MethodWrapperType, types.ClassMethodDescriptorType)


def _protected(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in PROTECTED_MODULE_PREFIXES)


def _callables_only(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in CALLABLES_ONLY_PREFIXES)


class Snapshot:
    """Identity snapshot of the objects the hidden tests and the kernel rely on."""

    def __init__(self) -> None:
        # (label, live mapping, key, expected object)
        self.entries: list[tuple[str, object, object, object]] = []
        # (label, function, code, defaults, kwdefaults)
        self.functions: list[tuple[str, types.FunctionType, object, object, object]] = []
        # (label, instance, names of class-level callables, instance keys at arm time)
        self.instances: list[tuple[str, object, frozenset, frozenset]] = []
        self.protected_ids: set[int] = set()
        self.signals: dict[int, object] = {}

    def add_mapping(self, label: str, mapping, callables_only: bool) -> None:
        for key, value in list(mapping.items()):
            if not isinstance(key, str) or key in VOLATILE_NAMES:
                continue
            if callables_only and not isinstance(value, _CALLABLE_TYPES):
                continue
            self.entries.append((f"{label}.{key}", mapping, key, value))

    def add_module(self, name: str, module: types.ModuleType) -> None:
        self.entries.append((f"sys.modules[{name!r}]", sys.modules, name, module))
        only_callables = _callables_only(name)
        self.add_mapping(name, module.__dict__, only_callables)
        strict = name == "helpers" or name.startswith("helpers.") or name.startswith("autograder")
        for key, value in list(module.__dict__.items()):
            if isinstance(value, types.FunctionType) and (strict or value.__module__ == name):
                self.add_function(f"{name}.{key}", value)
            elif isinstance(value, type) and value.__module__ == name:
                self.add_class(f"{name}.{key}", value, callables_only=not strict)

    def add_function(self, label: str, fn: types.FunctionType) -> None:
        self.protected_ids.add(id(fn))
        self.functions.append((label, fn, fn.__code__, fn.__defaults__, fn.__kwdefaults__))

    def add_class(self, label: str, cls: type, callables_only: bool = True) -> None:
        if id(cls) in self.protected_ids:
            return
        self.protected_ids.add(id(cls))
        mapping = cls.__dict__  # a live view of the class namespace
        self.add_mapping(label, mapping, callables_only)
        for key, value in list(mapping.items()):
            if isinstance(value, types.FunctionType):
                self.add_function(f"{label}.{key}", value)

    def add_instance(self, label: str, obj: object) -> None:
        if obj is None:
            return
        for klass in type(obj).__mro__:
            if klass is not object:
                self.add_class(f"{klass.__module__}.{klass.__qualname__}", klass)
        methods = frozenset(
            name for klass in type(obj).__mro__ for name, value in vars(klass).items()
            if callable(value) or isinstance(value, (classmethod, staticmethod, property)))
        existing = frozenset(getattr(obj, "__dict__", {}))
        self.instances.append((label, obj, methods, existing))

    def violations(self) -> list[str]:
        """What changed since the snapshot (empty when nothing did)."""
        found = []
        for label, mapping, key, expected in self.entries:
            if mapping.get(key, MISSING) is not expected:
                found.append(f"{label} was replaced or deleted")
        for label, fn, code, defaults, kwdefaults in self.functions:
            if (fn.__code__ is not code or fn.__defaults__ is not defaults
                    or fn.__kwdefaults__ is not kwdefaults):
                found.append(f"{label} had its code or defaults changed")
        for label, obj, methods, existing in self.instances:
            namespace = getattr(obj, "__dict__", {})
            for name in namespace:
                if name in methods and name not in existing:
                    found.append(f"{label}.{name} was overridden on the instance")
        return found


def take_snapshot(extra_instances: dict[str, object] | None = None) -> Snapshot:
    snap = Snapshot()
    snap.add_mapping("builtins", {k: v for k, v in builtins.__dict__.items()
                                  if k not in IPYTHON_BUILTINS}, callables_only=False)
    # The live dict is what is compared; the filtered copy only chose the keys.
    snap.entries = [(label, builtins.__dict__, key, value)
                    for label, _mapping, key, value in snap.entries]
    for name, module in sorted(sys.modules.items()):
        if isinstance(module, types.ModuleType) and _protected(name) and name != "builtins":
            snap.add_module(name, module)
    for key in ("modules", "meta_path", "path_hooks", "audit", "addaudithook"):
        snap.entries.append((f"sys.{key}", sys.__dict__, key, sys.__dict__.get(key, MISSING)))
    for label, obj in (extra_instances or {}).items():
        snap.add_instance(label, obj)
    return snap


def install(key: bytes, channel_fd: int, snapshot_factory,
            trusted_files: dict[str, str] | None = None) -> None:
    """Install the audit hook. ``snapshot_factory()`` is called by :func:`arm`.

    ``trusted_files`` maps the real path of every file of the trusted packages to the
    sha256 of its bytes: compiling other code under one of those names (to make a frame
    look like the checks' own) is flagged.
    """
    trusted_files = dict(trusted_files or {})
    trusted_dirs = tuple(sorted({os.path.dirname(p) + os.sep for p in trusted_files}))
    sha256, realpath = hashlib.sha256, os.path.realpath
    sign = hmac.new(key, digestmod="sha256").copy
    write, dumps, getpid = os.write, json.dumps, os.getpid
    state = {"armed": False, "busy": False, "snapshot": None, "broken": False,
             "cells": 0, "reported": set()}

    def emit(record: dict) -> None:
        body = dumps(record, sort_keys=True)
        mac = sign()
        mac.update(body.encode())
        line = dumps({"body": body, "mac": mac.hexdigest()}) + "\n"
        try:
            write(channel_fd, line.encode())
        except OSError:
            state["broken"] = True

    def flag(what: str, where: str) -> None:
        if what in state["reported"]:
            return
        state["reported"].add(what)
        emit({"event": "tamper", "what": what, "where": where, "cell": state["cells"],
              "pid": getpid()})

    def verify(where: str) -> list[str]:
        snap = state["snapshot"]
        found = snap.violations() if snap is not None else ["guard has no snapshot"]
        for what in found:
            flag(what, where)
        return found

    def hook(event, args):
        if not state["armed"] or state["busy"]:
            return
        state["busy"] = True
        try:
            if event == "exec":
                # Cells only (ipykernel compiles them to /tmp/ipykernel_<pid>/<hash>.py);
                # verifying every internal exec (namedtuple, dataclasses) would be slow.
                filename = getattr(args[0], "co_filename", "") if args else ""
                if isinstance(filename, str) and "ipykernel_" in filename:
                    state["cells"] += 1
                    verify("before running a cell")
            elif event == "autograder.probe":
                found = verify("final probe")
                emit({"event": "probe", "nonce": str(args[0]), "ok": not found,
                      "cells": state["cells"]})
            elif event == "autograder.planted":
                flag(str(args[0]) if args else "planted module", "at kernel start")
            elif event == "autograder.private":
                flag(str(args[0]) if args else "called grading-only code", "during a cell")
            elif event in TAMPER_EVENTS or event.startswith("ctypes."):
                flag(f"used {event}", "during a cell")
            elif event == "object.__setattr__" and args and id(args[0]) in state["protected"]:
                flag(f"changed {getattr(args[0], '__qualname__', '?')}.{args[1]}",
                     "during a cell")
            elif event in ("compile", "code.__new__") and trusted_dirs and len(args) > 1:
                filename = args[1]
                if isinstance(filename, bytes):
                    filename = os.fsdecode(filename)
                if isinstance(filename, str) and filename.startswith("/"):
                    path = realpath(filename)
                    if os.path.dirname(path) + os.sep in trusted_dirs:
                        source = args[0]
                        if isinstance(source, str):
                            source = source.encode("utf-8")
                        if (event == "code.__new__" or not isinstance(source, bytes)
                                or sha256(source).hexdigest() != trusted_files.get(path)):
                            flag(f"made code that claims to come from {filename}", "during a cell")
            elif event == "open" and args and isinstance(args[0], (str, bytes)):
                path = os.fsdecode(args[0])
                if path.startswith("/proc/") and path.rstrip("/").endswith("/mem"):
                    flag("opened process memory (/proc/.../mem)", "during a cell")
        finally:
            state["busy"] = False

    def arm() -> None:
        snap = snapshot_factory()
        state["snapshot"] = snap
        state["protected"] = frozenset(snap.protected_ids)
        state["armed"] = True
        emit({"event": "armed", "entries": len(snap.entries), "functions": len(snap.functions),
              "pid": getpid()})

    sys.addaudithook(hook)
    # Handed to the launcher only; deleted from this module's namespace by it.
    global _ARM
    _ARM = arm


_ARM = None


def arm() -> None:
    """Take the snapshot and start watching (called once, by ``autograder.kernel``)."""
    global _ARM
    fn, _ARM = _ARM, None
    if fn is None:
        raise RuntimeError("guard not installed or already armed")
    fn()


# --------------------------------------------------------------------------------------
# Trusted side: reading the channel.

def parse_records(data: bytes, key: bytes) -> tuple[list[dict], int]:
    """Records from the channel whose signature checks out, and how many did not."""
    good, bad = [], 0
    for line in data.splitlines():
        try:
            outer = json.loads(line)
            body, mac = outer["body"], outer["mac"]
        except (ValueError, KeyError, TypeError):
            bad += 1
            continue
        expected = hmac.new(key, body.encode(), digestmod="sha256").hexdigest()
        if not (isinstance(mac, str) and hmac.compare_digest(expected, mac)):
            bad += 1
            continue
        try:
            good.append(json.loads(body))
        except ValueError:
            bad += 1
    return good, bad


def new_key() -> bytes:
    return hashlib.sha256(os.urandom(32)).digest()
