"""Source rules of Section 3, read from a notebook's code in the trusted grader.

GRADING ONLY. The rules concern *how* an answer is written, so they are read from the
notebook's source, never asked of the student's kernel:

* **plain code** (every answer): nothing that hides what runs -- ``exec``, ``eval``,
  ``compile``, ``__import__``, ``importlib``, ``globals()``/``vars()``/``locals()``,
  ``getattr``/``setattr`` with a computed name, ``sys.modules``, dunder attributes such as
  ``__class__`` or ``__globals__``, frame objects, IPython hooks (``get_ipython``) and
  magics other than ``%time``/``%timeit``/``%matplotlib``;
* **no course helpers** (every function answer): the course's ``helpers`` package draws
  the pictures; an answer must not call it;
* **loops** (problem 3): two nested loops / exactly one loop / no loop. ``for``, ``while``,
  comprehensions, ``map``, ``filter``, ``np.vectorize``, ``np.frompyfunc``, ``np.fromiter``,
  ``np.apply_along_axis``, ``np.apply_over_axes`` and recursion count as loops, and so do
  the loops of every function of the notebook that the answer calls;
* **numpy only** (problem 3): no import other than numpy (and math).

Cells are given in notebook order as :class:`Cell` (source + who wrote it). The
student's cells are the answer cells and any cell the student added; locked cells are the
course's and are read only to follow calls into them.
"""
from __future__ import annotations

import ast
import dataclasses

#: names whose call hides what runs
DYNAMIC_CALLS = {"exec", "eval", "compile", "__import__", "globals", "vars", "locals",
                 "breakpoint", "get_ipython", "setattr", "delattr"}
#: modules that reach into the interpreter
DYNAMIC_MODULES = {"importlib", "builtins", "inspect", "ctypes", "gc", "types", "code",
                   "codeop", "runpy", "IPython", "ipykernel", "pickle", "marshal", "atexit"}
#: attributes that lead to frames, modules or compilers (``np.f2py``, ``sys.modules``...)
BANNED_ATTRIBUTES = {"f_back", "f_globals", "f_locals", "f_builtins", "f_code", "gi_frame",
                     "cr_frame", "ag_frame", "tb_frame", "tb_next", "_getframe", "co_code",
                     "modules", "f2py", "ctypeslib", "distutils"} | DYNAMIC_MODULES
ALLOWED_DUNDERS = {"__init__", "__name__", "__doc__"}
ALLOWED_MAGICS = {"time", "timeit", "matplotlib"}
#: submodules of the modules above that only show things
ALLOWED_MODULES = {"IPython.display"}
LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp,
              ast.GeneratorExp)
LOOP_CALLS = {"map", "filter", "vectorize", "apply_along_axis", "frompyfunc", "fromiter",
              "apply_over_axes", "reduce", "accumulate", "starmap"}
#: builtins that call a function once per item when given one
KEY_CALLS = {"sorted", "min", "max"}
NUMPY_ONLY = {"numpy", "math"}


@dataclasses.dataclass(frozen=True)
class Cell:
    """One code cell: its source and who wrote it.

    ``answer`` is the graded name an answer cell defines (its ``grade_id``); ``student``
    says whether the student wrote the cell (answer cells and added cells).
    """

    source: str
    student: bool
    answer: str | None = None


@dataclasses.dataclass
class Violation:
    """A broken rule: the message a student reads and the catalogue's slug, if any."""

    message: str
    slug: str | None = None


@dataclasses.dataclass
class LoopReport:
    """Loops found in an answer and in the notebook's functions it calls."""

    count: int = 0
    depth: int = 0
    loop_calls: tuple = ()
    imports: tuple = ()        # modules the reachable code imports or uses
    helpers: tuple = ()        # names from the course's helpers package it uses


# ------------------------------------------------------------------------------------------
# Parsing cells as IPython would

def to_python(source: str) -> str:
    """A cell's source as the Python IPython runs (magics become ``get_ipython()`` calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def parse(source: str) -> ast.Module | None:
    """The cell's AST, or None if it does not parse (the kernel then raised SyntaxError)."""
    try:  # IPython runs cells with top-level await allowed: parse them the same way
        return compile(to_python(source), "<cell>", "exec",
                       flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _magic_code(node: ast.Call) -> str | None:
    """The code inside an allowed ``%time``/``%timeit`` magic call, or None if not one."""
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr in ("run_line_magic", "run_cell_magic")
            and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name)
            and func.value.func.id == "get_ipython"):
        return None
    args = node.args
    if not args or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
        return None
    if args[0].value not in ALLOWED_MAGICS:
        return None
    body = "\n".join(a.value for a in args[1:])
    if args[0].value == "matplotlib":
        return ""
    # %timeit options such as -n 10 -r 3 come before the code
    words = body.split("\n", 1)
    head = words[0].split()
    while head and head[0].startswith("-"):
        head = head[2:] if head[0] in ("-n", "-r") else head[1:]
    return " ".join(head) + ("\n" + words[1] if len(words) > 1 else "")


# ------------------------------------------------------------------------------------------
# Plain code

def dynamic_code(source: str) -> list[str]:
    """What in ``source`` hides what runs, as short descriptions (empty: plain code)."""
    tree = parse(source)
    if tree is None:
        return []
    found: list[str] = []
    _scan_dynamic(tree, found)
    return found


def _scan_dynamic(tree: ast.AST, found: list[str]) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            inner = _magic_code(node)
            if inner is not None:
                sub = parse(inner)
                if sub is None:
                    found.append("a %time/%timeit magic whose code does not parse")
                else:
                    _scan_dynamic(sub, found)
                # the magic's own get_ipython() call is the allowed form
                node.func.value.func.id = "_allowed_magic_"
                continue
            if isinstance(node.func, ast.Name) and node.func.id == "getattr" and (
                    len(node.args) < 2 or not isinstance(node.args[1], ast.Constant)):
                found.append("getattr with a computed name")
        elif isinstance(node, ast.Name):
            if node.id in DYNAMIC_CALLS:
                found.append(f"`{node.id}`")
            elif node.id.startswith("__") and node.id.endswith("__") and node.id not in ALLOWED_DUNDERS:
                found.append(f"`{node.id}`")
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            found.append("`global`/`nonlocal` (it binds names out of sight)")
        elif isinstance(node, ast.Attribute):
            attr = node.attr
            if (attr.startswith("__") and attr.endswith("__") and attr not in ALLOWED_DUNDERS) \
                    or attr in BANNED_ATTRIBUTES:
                found.append(f"the attribute `.{attr}`")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for module in _imported_modules(node):
                if module.split(".")[0] in DYNAMIC_MODULES and module not in ALLOWED_MODULES:
                    found.append(f"importing `{module}`")
            if isinstance(node, ast.ImportFrom) and node.module == "__future__" and any(
                    a.name != "annotations" for a in node.names):
                found.append("`from __future__ import` (it changes how later cells are read)")


def _imported_modules(node) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    return [("." * node.level) + (node.module or "")]


# ------------------------------------------------------------------------------------------
# The notebook's definitions

@dataclasses.dataclass
class _Binding:
    kind: str                 # "def", "lambda", "alias", "import", "class", "value", "other"
    node: ast.AST | None
    student: bool
    module: str = ""          # for imports: the module the name comes from
    nested: bool = False      # bound inside if/try/with/a loop/a %%time cell


def _bindings(cells: list[Cell]) -> dict[str, _Binding]:
    """The last binding of every global name, in cell order (as the kernel ran them).

    Definitions inside ``if``/``try``/``with``/loops at the top of a cell, or inside a
    ``%%time`` cell, bind globals too; they are recorded with ``nested`` set.
    """
    table: dict[str, _Binding] = {}
    for cell in cells:
        tree = parse(cell.source)
        if tree is None:
            continue
        for stmt, nested in _module_statements(tree.body):
            for name, binding in _bound_by(stmt, cell.student):
                binding.nested = nested
                table[name] = binding
            if cell.student and isinstance(stmt, ast.Expr):
                table.setdefault("\0statements", []).append(stmt)
    return table


_COMPOUND = (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While,
             getattr(ast, "TryStar", ast.Try), getattr(ast, "Match", ast.If))


def _module_statements(body, nested=False):
    """Every statement that runs at module level: ``(statement, nested)`` pairs."""
    for stmt in body:
        yield stmt, nested
        if isinstance(stmt, _COMPOUND):
            for field in ("body", "orelse", "finalbody"):
                yield from _module_statements(getattr(stmt, field, []) or [], True)
            for handler in getattr(stmt, "handlers", []) or []:
                yield from _module_statements(handler.body, True)
            for case in getattr(stmt, "cases", []) or []:
                yield from _module_statements(case.body, True)
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            inner = _magic_code(stmt.value)
            sub = parse(inner) if inner else None
            if sub is not None:
                yield from _module_statements(sub.body, True)


def _bound_by(stmt, student: bool):
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        yield stmt.name, _Binding("def", stmt, student)
    elif isinstance(stmt, ast.ClassDef):
        yield stmt.name, _Binding("class", stmt, student)
    elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            if isinstance(stmt, ast.Import):
                name = alias.asname or alias.name.split(".")[0]
                module = alias.name if alias.asname else alias.name.split(".")[0]
            else:
                name = alias.asname or alias.name
                module = ("." * stmt.level) + (stmt.module or "")
            yield name, _Binding("import", stmt, student, module)
    elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        value = stmt.value
        for target in targets:
            for name_node in ast.walk(target):
                if isinstance(name_node, ast.Name):
                    if isinstance(value, ast.Lambda) and isinstance(target, ast.Name):
                        yield name_node.id, _Binding("lambda", value, student)
                    elif isinstance(value, ast.Name) and isinstance(target, ast.Name):
                        yield name_node.id, _Binding("alias", value, student)
                    elif isinstance(value, ast.Constant) or _is_data(value):
                        yield name_node.id, _Binding("value", value, student)
                    else:
                        yield name_node.id, _Binding("other", value, student)
    else:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                yield node.id, _Binding("other", stmt, student)


def _is_data(node) -> bool:
    """Literal data (numbers, tuples, lists) and np.array(...) of literals."""
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return False


# ------------------------------------------------------------------------------------------
# Loops and what an answer calls

def analyse(name: str, cells: list[Cell]) -> LoopReport:
    """Loops, imports and helpers reachable from the notebook's definition of ``name``."""
    table = _bindings(cells)
    report = LoopReport()
    _follow(name, table, report, level=0, stack=())
    return report


def _follow(name: str, table, report: LoopReport, level: int, stack: tuple) -> None:
    binding = table.get(name)
    if binding is None:
        return  # a builtin, numpy's np, or undefined (the kernel raised NameError)
    if name in stack:
        report.count += 1  # recursion repeats the function: a loop
        report.depth = max(report.depth, level + 1)
        report.loop_calls += (f"{name} (calls itself)",)
        return
    stack = stack + (name,)
    if binding.kind == "import":
        root = binding.module.lstrip(".").split(".")[0]
        if root == "helpers" or binding.module.startswith("."):
            report.helpers += (name,)
        else:
            report.imports += (binding.module,)
    elif binding.kind in ("def", "lambda", "class"):
        _visit(binding.node, table, report, level, stack, frozenset())
    elif binding.kind == "alias":
        _follow(binding.node.id, table, report, level, stack)
    elif binding.kind in ("other", "value") and binding.student:
        # a container filled later (ops.update(d=f), ops.append(f)) holds what those statements put in
        _visit(binding.node, table, report, level, stack, frozenset())
        for stmt in table.get("\0statements", []):
            if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(stmt)):
                _visit(stmt, table, report, level, stack, frozenset())


def _visit(node, table, report: LoopReport, level: int, stack: tuple, local: frozenset) -> None:
    """Count loops under ``node``; follow global names (not ``local`` ones) into their code."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        local = local | _local_names(node)
    if isinstance(node, LOOP_NODES):
        report.count += 1
        level += 1
        report.depth = max(report.depth, level)
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        for module in _imported_modules(node):
            if module.lstrip(".").split(".")[0] == "helpers" or module.startswith("."):
                report.helpers += (module,)
            else:
                report.imports += (module,)
    looping = _loop_reference(node)
    if looping:
        report.loop_calls += (looping,)
        report.count += 1
        report.depth = max(report.depth, level + 1)
    if isinstance(node, ast.Call):
        for arg in list(node.args) + [k.value for k in node.keywords]:
            escaped = table.get(arg.id) if isinstance(arg, ast.Name) and arg.id not in local else None
            if isinstance(escaped, _Binding) and escaped.student and escaped.kind in ("def", "lambda"):
                # a function of the notebook handed on as a value can be called again and again
                report.count += 1
                report.depth = max(report.depth, level + 1)
                report.loop_calls += (f"{arg.id} (passed on as a value)",)
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
        _follow(node.id, table, report, level, stack)
    for child in ast.iter_child_nodes(node):
        _visit(child, table, report, level, stack, local)


def _loop_reference(node) -> str | None:
    """The looping function ``node`` names or calls (``np.vectorize``, ``map``, ...), if any.

    A reference counts, not only a call: ``vec = np.vectorize`` hides the call behind a name.
    """
    if isinstance(node, ast.Name) and node.id in LOOP_CALLS:
        return node.id
    if isinstance(node, ast.Attribute) and node.attr in LOOP_CALLS:
        return node.attr
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        if name == "getattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and node.args[1].value in LOOP_CALLS:
            return str(node.args[1].value)
        if name in KEY_CALLS and any(k.arg == "key" for k in node.keywords):
            return f"{name}(key=...)"
        if name == "iter" and len(node.args) == 2:
            return "iter(callable, sentinel)"
    return None


def _local_names(fn_node) -> frozenset:
    """Parameters and names assigned inside a function (they shadow the notebook's globals)."""
    args = fn_node.args
    names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    body = fn_node.body if isinstance(fn_node.body, list) else [fn_node.body]
    for stmt in body:
        for n in ast.walk(stmt):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                names.add(n.id)
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                names |= {a.asname or a.name.split(".")[0] for a in n.names}
            elif isinstance(n, (ast.Global, ast.Nonlocal)):
                names -= set(n.names)
    return frozenset(names)


# ------------------------------------------------------------------------------------------
# The rules, per answer

LOOP_RULES = {
    "compute_distances_two_loops": ("two nested loops (over the test points and the training points)",
                                    lambda r: r.depth >= 2, None),
    "compute_distances_one_loop": ("exactly one loop", lambda r: r.count == 1, "two-loops-in-one-loop"),
    "compute_distances_no_loops": ("no loop at all", lambda r: r.count == 0, "loop-in-no-loops"),
}


def violations(name: str, cells: list[Cell], *, function: bool) -> list[Violation]:
    """The rules ``name``'s answer breaks, in the order a student should fix them."""
    out: list[Violation] = []
    mine = [c for c in cells if c.student and (c.answer == name or c.answer is None)]
    hidden = []
    for cell in mine:
        hidden += dynamic_code(cell.source)
    if hidden:
        where = "your answer or a cell you added"
        out.append(Violation(
            f"answers must be plain code, but {where} uses {', '.join(sorted(set(hidden)))}. "
            "Code that hides what it runs (exec, eval, __import__, globals(), dunder "
            "attributes, get_ipython, magics other than %time/%timeit) is not allowed.",
            "dynamic-code"))
    if not function:
        return out
    if any(c.answer == name and c.student and parse(c.source) is None for c in cells):
        out.append(Violation(f"the answer cell of `{name}` is not valid Python; fix the syntax error."))
        return out
    table = _bindings(cells)
    binding = table.get(name)
    if binding is None or binding.nested or (
            binding.kind not in ("def", "lambda", "alias") and binding.student):
        out.append(Violation(f"define `{name}` with `def {name}(...)` at the top level of its answer "
                             "cell (not inside if/try/with or a magic), so the grader can read it.",
                             "dynamic-code" if binding is not None and binding.nested else None))
        return out
    report = analyse(name, cells)
    if report.helpers:
        out.append(Violation("your answer calls the course's `helpers` package, which is there "
                             "for the pictures; write the computation yourself.", "uses-course-helpers"))
    if name in LOOP_RULES:
        others = sorted({m for m in report.imports if m.split(".")[0] not in NUMPY_ONLY})
        if others:
            out.append(Violation(f"use numpy only; your function uses {', '.join(others)}.",
                                 "not-numpy-only"))
        rule, satisfied, slug = LOOP_RULES[name]
        if not satisfied(report):
            extra = (f" (it calls {', '.join(sorted(set(report.loop_calls)))}, which loops)"
                     if report.loop_calls else "")
            out.append(Violation(
                f"must use {rule}; yours has {report.count} loop(s), nested {report.depth} deep"
                f"{extra}. Loops inside functions of your notebook that it calls count too.",
                slug if report.count else None))
    return out
