"""Source rules of Section 3, read from a notebook's code in the trusted grader.

GRADING ONLY. The rules concern *how* an answer is written, so they are read from the
notebook's source, never asked of the student's kernel:

* **readable** (every answer): a cell the grader cannot read -- nested too deeply for its
  parser, longer than :data:`MAX_CELL_CHARS`, or with more IPython syntax than
  :data:`MAX_MAGIC_LINES` lines -- fails every answer of the notebook, naming the cell: the
  kernel may well have run it, so no rule could be checked. A cell that is not valid Python
  (a genuine syntax error) ran nothing in the kernel either and is ignored. An analysis
  that takes longer than :data:`ANALYSIS_SECONDS` fails its own answer only.
* **plain code** (every answer): nothing that hides what runs -- ``exec``, ``eval``,
  ``compile``, ``__import__``, ``importlib``, ``globals()``/``vars()``/``locals()``,
  ``getattr``/``setattr`` with a computed name, ``sys.modules``, dunder attributes such as
  ``__class__`` or ``__globals__``, frame objects, ``gc.get_objects``/``get_referrers``/
  ``get_referents``, IPython hooks (``get_ipython``), shell commands (``!cmd``, ``%sx``,
  ``%%bash``...) and magics that run or load code (``%run``, ``%load``, ``%%writefile``...).
  Help (``np.pad?``, ``help(np.pad)``) and the magics of :data:`LINE_MAGICS` and
  :data:`CELL_MAGICS` are plain code: the code of ``%time``/``%timeit``/``%%capture`` is
  read as code, ``%aimport m`` as ``import m``. ``import gc``, ``from IPython import
  display`` and ``from IPython.display import ...`` are allowed. Verdicts name the cell
  (:attr:`Cell.index`, its first line) and what the student typed;
* **no course helpers** (every answer, functions and hand answers alike): the course's
  ``helpers`` package draws the pictures; an answer must not use it, nor be computed from it;
* **loops** (problem 3): two nested loops / exactly one loop / no loop. ``for``, ``while``,
  comprehensions, ``map``, ``filter``, ``np.vectorize``, ``np.frompyfunc``, ``np.fromiter``,
  ``np.apply_along_axis``, ``np.apply_over_axes``, ``functools.reduce``,
  ``itertools.accumulate``/``starmap`` (not numpy's ``np.add.reduce``), any call given a
  ``key=`` function, ``iter(f, sentinel)``, ``%timeit`` and recursion (through functions,
  methods and nested functions alike) count as loops, and so do the loops of every function
  of the notebook that the answer reaches. Student code that other code may call once per
  item counts as a loop too: a function of the notebook passed on as a value (as an argument
  or to a decorator) or stored on an object, and a class with methods other than
  ``__init__`` (Python and numpy call ``__getitem__``, ``__iter__``, ``__next__``,
  ``__call__``, operators, and on object arrays methods named like ufuncs, once per item);
* **numpy only** (problem 3): no import other than numpy (and math).

Cells are given in notebook order as :class:`Cell` (source + who wrote it). The
student's cells are the answer cells and any cell the student added; locked cells are the
course's and are read only to follow calls into them.

The analysis is bounded: each cell is transformed and parsed once per source text (cached);
each function, method or class is summarised once per analysis (its loop count, its depth,
what it imports), and a summary that names another adds that one's, so a chain of helpers
each calling the next twice costs one walk per helper; walking is iterative, so deep trees
and long call chains do not reach Python's recursion limit.
"""
from __future__ import annotations

import ast
import collections
import dataclasses
import functools
import re
import time

import numpy as np

#: names whose call hides what runs
DYNAMIC_CALLS = {"exec", "eval", "compile", "__import__", "globals", "vars", "locals",
                 "breakpoint", "get_ipython", "setattr", "delattr"}
#: modules that reach into the interpreter
DYNAMIC_MODULES = {"importlib", "builtins", "inspect", "ctypes", "gc", "types", "code",
                   "codeop", "runpy", "IPython", "ipykernel", "pickle", "marshal", "atexit",
                   "__main__"}
#: attributes of frames, tracebacks and code: also refused as strings (getattr(f, "f_globals"))
FRAME_ATTRIBUTES = {"f_back", "f_globals", "f_locals", "f_builtins", "f_code", "gi_frame", "cr_frame",
                    "ag_frame", "tb_frame", "tb_next", "_getframe", "co_code"}
#: attributes that lead to frames, modules, compilers or every live object
BANNED_ATTRIBUTES = FRAME_ATTRIBUTES | DYNAMIC_MODULES | {
    "modules", "f2py", "ctypeslib", "distutils", "get_ipython", "get_objects", "get_referrers",
    "get_referents", "garbage", "set_debug"}
ALLOWED_DUNDERS = {"__init__", "__name__", "__doc__", "__version__"}
#: ``from __future__ import ...`` that changes nothing in Python 3 (old code starts with them)
HARMLESS_FUTURES = {"annotations", "print_function", "division", "absolute_import",
                    "unicode_literals", "generators", "nested_scopes", "with_statement",
                    "generator_stop"}
#: what of the modules above an answer may import: ``import gc``, IPython's display
GC_NAMES = {"collect", "enable", "disable", "isenabled", "get_count", "get_threshold", "get_stats"}

_WORDS = r"[\w\s-]*"
#: line magics that neither define nor hide code: name -> the arguments they may take
#: (a regular expression; braces and ``$`` never: IPython evaluates them as code)
LINE_MAGICS = {
    "who": _WORDS, "whos": _WORDS, "who_ls": _WORDS, "pwd": r"\s*", "lsmagic": r"\s*",
    "quickref": r"\s*", "magic": _WORDS, "precision": r"[\w\s%.]*", "xmode": _WORDS,
    "matplotlib": _WORDS, "autoreload": _WORDS, "load_ext": r"\s*autoreload\s*",
    "reload_ext": r"\s*autoreload\s*",
    "config": r"\s*((InlineBackend|IPCompleter|Completer)(\.\w+\s*=\s*[^{}$]+)?)?\s*",
    "pinfo": r"[\w.\[\]\s-]*", "pinfo2": r"[\w.\[\]\s-]*", "pdoc": r"[\w.\[\]\s-]*",
    "pdef": r"[\w.\[\]\s-]*", "psource": r"[\w.\[\]\s-]*", "psearch": r"[\w.*\s-]*",
}
#: magics whose argument is Python code the grader reads (``%aimport m`` reads as ``import m``)
CODE_MAGICS = {"time", "timeit", "aimport"}
#: cell magics whose body is code the grader reads
CELL_MAGICS = {"time", "timeit", "capture"}

LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp,
              ast.GeneratorExp)
LOOP_CALLS = {"map", "filter", "vectorize", "apply_along_axis", "frompyfunc", "fromiter",
              "apply_over_axes", "reduce", "accumulate", "starmap"}
#: loop names that are also methods of numpy's ufuncs (``np.add.reduce`` is vectorised)
UFUNC_METHODS = {"reduce", "accumulate"}
ITERTOOLS_CALLS = {"reduce", "accumulate", "starmap"}
UFUNC_NAMES = frozenset(n for n in dir(np) if isinstance(getattr(np, n, None), np.ufunc))
NUMPY_ONLY = {"numpy", "math"}

#: limits beyond which a cell is not read (the kernel may have run it: every answer fails)
MAX_CELL_CHARS = 20_000
MAX_MAGIC_LINES = 40
#: characters IPython's transformer may tokenise for one cell: it re-reads the whole cell
#: once per piece of IPython syntax it rewrites
MAX_TRANSFORM_WORK = 60_000
MAX_MAGIC_NESTING = 3
#: CPU seconds one answer's analysis may take (overrun: that answer fails, with a message);
#: CPU time, so a busy machine does not make an honest answer overrun
ANALYSIS_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class Cell:
    """One code cell: its source and who wrote it.

    ``answer`` is the graded name an answer cell defines (its ``grade_id``); ``student``
    says whether the student wrote the cell (answer cells and added cells); ``index`` is
    the cell's 1-based position in the notebook, for messages.
    """

    source: str
    student: bool
    answer: str | None = None
    index: int | None = None
    #: the cell stopped with an error: its statements after the failing one did not run
    raised: bool = False


@dataclasses.dataclass
class Violation:
    """A broken rule: the message a student reads and the catalogue's slug, if any."""

    message: str
    slug: str | None = None


@dataclasses.dataclass
class LoopReport:
    """Loops found in an answer and in the notebook's code it reaches."""

    count: int = 0
    depth: int = 0
    loop_calls: tuple = ()
    imports: tuple = ()        # modules the reachable code imports or uses
    helpers: tuple = ()        # names from the course's helpers package it uses


class Unreadable(Exception):
    """A cell the grader does not read: too deep, too long or too much IPython syntax."""


class _Overrun(Exception):
    """An analysis went past its deadline."""


def _clear_caches() -> None:
    """Forget every cell read and notebook summarised (tests)."""
    _read.cache_clear()
    _NOTEBOOKS.clear()


# ------------------------------------------------------------------------------------------
# Reading cells as IPython would

_FLAGS = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
#: lines IPython's token transforms may rewrite (a superset: %magic, !cmd, obj?, x = %magic)
_SPECIAL_LINE = re.compile(r"^[ \t]*[%!?,;/]|\?[ \t]*$|=[ \t]*[%!]", re.M)


def _compile(code: str) -> ast.Module:
    return compile(code, "<cell>", "exec", flags=_FLAGS, dont_inherit=True)


def _transform(source: str) -> tuple[str, ast.Module | None]:
    """The cell as the Python IPython runs (magics become ``get_ipython()`` calls), and its
    tree when that is already known (plain Python).

    Raises :class:`Unreadable` where IPython's transformer would be too slow to run.
    """
    from IPython.core.inputtransformer2 import TransformerManager

    if len(source) > MAX_CELL_CHARS:
        raise Unreadable("too long")
    manager = TransformerManager()
    lines = (source if source.endswith("\n") else source + "\n").splitlines(keepends=True)
    for transform in manager.cleanup_transforms + manager.line_transforms:
        lines = transform(lines)  # linear: prompts, indentation, a %% cell magic
    code = "".join(lines)
    try:
        return code, _compile(code)  # plain Python: none of IPython's token transforms applies
    except (SyntaxError, ValueError):
        pass
    except (RecursionError, MemoryError):
        raise Unreadable("nested too deeply") from None
    special = sum(1 for _ in _SPECIAL_LINE.finditer(code))
    if not special:
        return code, None  # a genuine syntax error
    if special > MAX_MAGIC_LINES or len(code) * (special + 1) > MAX_TRANSFORM_WORK:
        raise Unreadable("too many magics")
    try:
        return "".join(manager.do_token_transforms(lines)), None
    except RuntimeError:  # IPython gives up too (the kernel ran nothing)
        raise Unreadable("too many magics") from None


def to_python(source: str) -> str:
    """A cell's source as the Python IPython runs (:class:`Unreadable` past the limits)."""
    return _transform(source)[0]


@dataclasses.dataclass(frozen=True)
class _Magic:
    """A magic or shell command of a cell: as typed, what is wrong with it, the code it runs."""

    typed: str
    problem: str | None = None
    code: "_Read | None" = None
    repeats: bool = False      # %timeit runs its code many times


@dataclasses.dataclass(frozen=True)
class _Read:
    """One cell read: its tree (None: a genuine syntax error), why it cannot be read (if so),
    its magics (by ``id`` of their call node) and what in it hides code."""

    tree: ast.Module | None
    problem: str | None = None
    magics: dict = dataclasses.field(default_factory=dict)
    hidden: tuple = ()


@functools.lru_cache(maxsize=512)
def _read(source: str, depth: int = 0) -> _Read:
    """Read ``source`` once: transform, parse, find magics, scan for code that hides code.

    Every node gets a ``_rules_parent`` attribute (scopes are read from it).
    """
    if depth > MAX_MAGIC_NESTING:
        return _Read(None, "nested too deeply")
    try:
        code, tree = _transform(source)
        tree = tree or _compile(code)
    except Unreadable as exc:
        return _Read(None, str(exc))
    except (SyntaxError, ValueError):
        return _Read(None)
    except (RecursionError, MemoryError):
        return _Read(None, "nested too deeply")
    magics: dict = {}
    hidden: list[str] = []
    consumed: set = set()   # the get_ipython() of a magic is how IPython writes it, not the student
    todo = collections.deque([tree])
    while todo:
        node = todo.popleft()
        for child in ast.iter_child_nodes(node):
            child._rules_parent = node
            todo.append(child)
        if isinstance(node, ast.Call):
            magic = _magic_of(node, depth)
            if magic is not None:
                if magic.code is not None and magic.code.problem:
                    return _Read(None, magic.code.problem)
                magics[id(node)] = magic
                consumed.add(id(node.func.value.func))
                if magic.problem:
                    hidden.append(magic.problem)
                elif magic.code is not None:
                    hidden += magic.code.hidden
                    magics.update(magic.code.magics)
                continue
        if not (isinstance(node, ast.Name) and id(node) in consumed):
            hidden += _hides(node)
    return _Read(tree, None, magics, tuple(hidden))


def parse(source: str) -> ast.Module | None:
    """The cell's AST, or None if it does not parse (the kernel then raised SyntaxError).

    Raises :class:`Unreadable` for a cell the grader does not read.
    """
    read = _read(source)
    if read.problem:
        raise Unreadable(read.problem)
    return read.tree


def _magic_of(node: ast.Call, depth: int) -> _Magic | None:
    """The magic or shell command ``node`` is (as IPython writes them), or None."""
    func = node.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name) and func.value.func.id == "get_ipython"
            and not func.value.args and not node.keywords
            and func.attr in ("run_line_magic", "run_cell_magic", "system", "getoutput")):
        return None
    args = node.args
    if not args or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
        return None
    words = [a.value for a in args]
    if func.attr in ("system", "getoutput"):
        typed = f"!{words[0]}"
        return _Magic(typed, f"`{typed}` (a shell command)")
    if func.attr == "run_line_magic" and len(words) == 2:
        name, line = words
        typed = f"%{name} {line}".rstrip()
        if name in CODE_MAGICS:
            code = _aimport_code(line) if name == "aimport" else _timed_code(line, name)
            if code is None:
                return _Magic(typed, f"`{typed}`")
            return _code_magic(typed, code, depth, name == "timeit")
        pattern = LINE_MAGICS.get(name)
        if pattern is None or not re.fullmatch(pattern, line) or (
                name == "config" and "=" in line and not _is_literal(line.split("=", 1)[1])):
            return _Magic(typed, f"`{typed}`")
        return _Magic(typed)
    if func.attr == "run_cell_magic" and len(words) == 3:
        name, line, body = words
        typed = f"%%{name} {line}".rstrip()
        if name not in CELL_MAGICS:
            return _Magic(typed, f"`{typed}`")
        if name == "capture":
            if not re.fullmatch(_WORDS, line):
                return _Magic(typed, f"`{typed}`")
            return _code_magic(typed, body, depth, False)
        return _code_magic(typed, _timed_code(line, name) + "\n" + body, depth, name == "timeit")
    return _Magic(f"%{words[0]}", f"`%{words[0]}`")


def _code_magic(typed: str, code: str, depth: int, repeats: bool) -> _Magic:
    inner = _read(code, depth + 1)
    if inner.tree is None and not inner.problem:
        return _Magic(typed, f"`{typed}` (its code does not parse)")
    return _Magic(typed, None, inner, repeats)


def _timed_code(line: str, name: str) -> str:
    """The code of a %time/%timeit line: %timeit options (-n 10 -r 3 ...) come before it."""
    head = line.split()
    if name == "timeit":
        while head and head[0].startswith("-"):
            head = head[2:] if head[0] in ("-n", "-r", "-p") else head[1:]
    return " ".join(head)


def _aimport_code(line: str) -> str | None:
    """``%aimport a, -b`` as the import it makes (``import a``); None if not module names."""
    names = [n.strip() for n in line.split(",") if n.strip()]
    if not all(re.fullmatch(r"-?[A-Za-z_][\w.]*", n) for n in names):
        return None
    imported = [n for n in names if not n.startswith("-")]
    return f"import {', '.join(imported)}" if imported else ""


def _is_literal(text: str) -> bool:
    try:
        ast.literal_eval(text.strip())
        return True
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return False


# ------------------------------------------------------------------------------------------
# Plain code

def dynamic_code(source: str) -> list[str]:
    """What in ``source`` hides what runs, as short descriptions (empty: plain code)."""
    return list(_read(source).hidden)


def _hides(node) -> list[str]:
    """What ``node`` itself does to hide code (short descriptions)."""
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id == "getattr" and (
                len(node.args) < 2 or not isinstance(node.args[1], ast.Constant)):
            return ["getattr with a computed name"]
    elif isinstance(node, ast.Name):
        if node.id in DYNAMIC_CALLS or (node.id.startswith("__") and node.id.endswith("__")
                                        and node.id not in ALLOWED_DUNDERS):
            return [f"`{node.id}`"]
    elif isinstance(node, (ast.Global, ast.Nonlocal)):
        return ["`global`/`nonlocal` (it binds names out of sight)"]
    elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _names_an_attribute(node.value):
        # getattr(f, "__globals__"), attrgetter("__code__"), update_wrapper(assigned=("__code__",))
        return [f"the string {node.value!r} (it names a dunder or banned attribute)"]
    elif isinstance(node, ast.Attribute):
        attr = node.attr
        if (attr.startswith("__") and attr.endswith("__") and attr not in ALLOWED_DUNDERS) \
                or attr in BANNED_ATTRIBUTES:
            return [f"the attribute `.{attr}`"]
    elif isinstance(node, ast.Import):
        return [f"importing `{a.name}`" for a in node.names if a.name.split(".")[0] in DYNAMIC_MODULES
                and not (a.name == "gc" or (a.name == "IPython.display" and a.asname))]
    elif isinstance(node, ast.ImportFrom):
        module = "." * node.level + (node.module or "")
        if module == "__future__" and any(a.name not in HARMLESS_FUTURES for a in node.names):
            return ["`from __future__ import` (it changes how later cells are read)"]
        if node.level or module.split(".")[0] not in DYNAMIC_MODULES:
            return []
        allowed = {"gc": GC_NAMES, "IPython": {"display"}}.get(module)
        return [f"`from {module} import {a.name}`" for a in node.names
                if a.name == "*" or (module != "IPython.display" and a.name not in (allowed or ()))]
    return []


def _names_an_attribute(text: str) -> bool:
    """Whether a string is a dunder name (other than the allowed ones and ``"__main__"``) or a
    frame or code attribute: code that reads attributes by name could reach anything."""
    if text.startswith("__") and text.endswith("__") and len(text) > 4 and text[2:-2].isidentifier():
        return text not in ALLOWED_DUNDERS and text != "__main__"
    return text in FRAME_ATTRIBUTES


def _where(cell: Cell) -> str:
    """How a message names a cell: its position and first line."""
    line = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
    line = (line if len(line) <= 60 else line[:57] + "...").replace("`", "'")
    place = f"cell {cell.index}" if cell.index else ("your answer cell" if cell.answer else "a cell you added")
    return f"{place} (`{line}`)"


# ------------------------------------------------------------------------------------------
# The notebook's definitions

@dataclasses.dataclass
class _Binding:
    kind: str                 # "def", "lambda", "alias", "import", "class", "value", "other"
    node: ast.AST | None
    student: bool
    module: str = ""          # for imports: the module the name comes from
    nested: bool = False      # bound inside if/try/with/a loop/a %%time cell
    attr: str | None = None   # for ``from m import attr``: the name imported


@dataclasses.dataclass
class _Scope:
    """The names a function, lambda, comprehension or class body binds itself."""

    names: frozenset
    units: dict               # name -> the defs, classes or lambdas it is bound to
    imports: dict             # name -> (module, attr) of a local import


@dataclasses.dataclass
class _Notebook:
    """A notebook's cells read once: bindings, and where later code changes them."""

    cells: tuple
    reads: list
    table: dict
    magics: dict
    mentions: dict            # name -> student statements (expressions) that mention it
    mutations: dict           # name -> student statements that set an item or attribute of it
    fillers: dict             # name -> student functions that set an item or attribute of it
    calling_fillers: dict     # name -> student functions that call a method of it
    methods: dict             # method name -> the defs and lambdas of classes that define it
    labels: dict              # id(node) -> "Class.method"
    #: name -> earlier bindings a binding inside if/try/a loop may have left in place
    alternatives: dict = dataclasses.field(default_factory=dict)
    named_lambdas: set = dataclasses.field(default_factory=set)
    scopes: dict = dataclasses.field(default_factory=dict)

    def scope(self, node) -> _Scope:
        found = self.scopes.get(id(node))
        if found is None:
            found = self.scopes[id(node)] = _scope_of(node)
            self.named_lambdas.update(id(u) for units in found.units.values() for u in units
                                      if isinstance(u, ast.Lambda))
        return found


_NOTEBOOKS: collections.OrderedDict = collections.OrderedDict()


def _notebook(cells: tuple, deadline: float) -> _Notebook:
    found = _NOTEBOOKS.get(cells)
    if found is None:
        found = _NOTEBOOKS[cells] = _build(cells, deadline)
        while len(_NOTEBOOKS) > 8:
            _NOTEBOOKS.popitem(last=False)
    return found


def _build(cells: tuple, deadline: float) -> _Notebook:
    """The last binding of every global name, in cell order (as the kernel ran them).

    Definitions inside ``if``/``try``/``with``/loops at the top of a cell, or inside a
    ``%%time`` cell, bind globals too; they are recorded with ``nested`` set.
    """
    reads = []
    for cell in cells:
        if time.process_time() >= deadline:
            raise _Overrun
        reads.append(_read(cell.source))
    nb = _Notebook(cells, reads, table={}, magics={}, mentions={}, mutations={}, fillers={},
                   calling_fillers={}, methods={}, labels={})
    for cell, read in zip(cells, reads):
        nb.magics.update(read.magics)
        if read.tree is None:
            continue
        for stmt, nested in _module_statements(read.tree.body, read):
            for name, binding in _bound_by(stmt, cell.student, nb.table):
                binding.nested = nested
                # ``if False: def f(): ...`` may not replace f, nor a def after the statement
                # that raised in its cell: the earlier binding may be what the kernel holds
                if (nested or cell.raised) and name in nb.table:
                    nb.alternatives.setdefault(name, []).append(nb.table[name])
                elif not nested:
                    nb.alternatives.pop(name, None)
                nb.table[name] = binding
            if cell.student:
                _index_statement(stmt, nb)
        if time.process_time() >= deadline:
            raise _Overrun
        trees = [read.tree] + [m.code.tree for m in read.magics.values() if m.code and m.code.tree]
        for node in (n for tree in trees for n in ast.walk(tree)):
            if isinstance(node, ast.ClassDef):
                for member in node.body:
                    for name, unit in _members(member):
                        if isinstance(unit, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                            nb.methods.setdefault(name, []).append(unit)
                            nb.labels[id(unit)] = f"{node.name}.{name}"
            elif cell.student and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                _index_function(node, nb)
    return nb


_COMPOUND = (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While,
             getattr(ast, "TryStar", ast.Try), getattr(ast, "Match", ast.If))


def _module_statements(body, read: _Read, nested=False):
    """Every statement that runs at module level: ``(statement, nested)`` pairs."""
    for stmt in body:
        yield stmt, nested
        if isinstance(stmt, _COMPOUND):
            for field in ("body", "orelse", "finalbody"):
                yield from _module_statements(getattr(stmt, field, []) or [], read, True)
            for handler in getattr(stmt, "handlers", []) or []:
                yield from _module_statements(handler.body, read, True)
            for case in getattr(stmt, "cases", []) or []:
                yield from _module_statements(case.body, read, True)
        if isinstance(stmt, ast.Expr):
            magic = read.magics.get(id(stmt.value))
            if magic is not None and magic.code is not None and magic.code.tree is not None:
                yield from _module_statements(magic.code.tree.body, magic.code, True)


def _stored_names(target) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]


def _bound_by(stmt, student: bool, table: dict):
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        yield stmt.name, _Binding("def", stmt, student)
    elif isinstance(stmt, ast.ClassDef):
        yield stmt.name, _Binding("class", stmt, student)
    elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            if isinstance(stmt, ast.Import):
                name = alias.asname or alias.name.split(".")[0]
                module = alias.name if alias.asname else alias.name.split(".")[0]
                yield name, _Binding("import", stmt, student, module)
            else:
                name = alias.asname or alias.name
                module = ("." * stmt.level) + (stmt.module or "")
                yield name, _Binding("import", stmt, student, module, attr=alias.name)
    elif isinstance(stmt, ast.AugAssign):
        # ``x += [f]`` changes x (a list grows in place): x keeps what it held
        if isinstance(stmt.target, ast.Name) and stmt.target.id not in table:
            yield stmt.target.id, _Binding("other", stmt.value, student)
    elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        value = stmt.value
        if value is None:
            return
        for target in targets:  # ``d[k] = v``, ``o.a = v`` change d and o: they bind nothing
            for name in _stored_names(target):
                if isinstance(value, ast.Lambda) and isinstance(target, ast.Name):
                    yield name, _Binding("lambda", value, student)
                elif isinstance(value, ast.Name) and isinstance(target, ast.Name):
                    yield name, _Binding("alias", value, student)
                elif isinstance(value, ast.Constant) or _is_data(value):
                    yield name, _Binding("value", value, student)
                else:
                    yield name, _Binding("other", value, student)
    elif isinstance(stmt, (ast.For, ast.AsyncFor)):
        for name in _stored_names(stmt.target):
            yield name, _Binding("other", stmt, student)
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        for item in stmt.items:
            for name in _stored_names(item.optional_vars) if item.optional_vars else ():
                yield name, _Binding("other", stmt, student)
    elif not isinstance(stmt, _COMPOUND):  # an expression with ``:=``, ``except ... as``...
        for name in _stored_names(stmt):
            yield name, _Binding("other", stmt, student)
        return
    for name in _header_stores(stmt):
        yield name, _Binding("other", stmt, student)


#: the fields of a compound statement that hold statements of their own (read one by one)
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _header_stores(stmt) -> list[str]:
    """Global names bound by the parts of ``stmt`` that are not statements: ``:=`` in a test,
    an iterable, a default or a decorator; ``match`` capture patterns; ``except ... as``."""
    parts = [v for field, value in ast.iter_fields(stmt) if field not in _BODIES
             for v in (value if isinstance(value, list) else [value]) if isinstance(v, ast.AST)]
    names = [h.name for h in getattr(stmt, "handlers", []) or [] if h.name]
    parts += [h.type for h in getattr(stmt, "handlers", []) or [] if h.type is not None]
    for case in getattr(stmt, "cases", []) or []:
        parts += [case.pattern] + ([case.guard] if case.guard is not None else [])
    todo = parts
    while todo:
        node = todo.pop()
        if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.append(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.append(node.rest)
        if not isinstance(node, ast.Lambda):  # a lambda's ``:=`` binds in the lambda
            todo.extend(ast.iter_child_nodes(node))
    return names


def _is_data(node) -> bool:
    """Literal data (numbers, tuples, lists) and np.array(...) of literals."""
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return False


def _changed_roots(stmt) -> set[str]:
    """Names a statement changes without rebinding them (``d[k] = v``, ``o.a = v``, ``x += y``)."""
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        return {stmt.target.id}
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Delete)):
        targets = stmt.targets if isinstance(stmt, (ast.Assign, ast.Delete)) else [stmt.target]
        return {n.id for t in targets if not isinstance(t, ast.Name) for n in ast.walk(t)
                if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store)}
    return set()


def _index_statement(stmt, nb: _Notebook) -> None:
    """Record a student's module-level statement where following a name must read it."""
    if isinstance(stmt, ast.Expr):
        for name in {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}:
            nb.mentions.setdefault(name, []).append(stmt)
    for name in _changed_roots(stmt):
        nb.mutations.setdefault(name, []).append(stmt)


def _index_function(fn, nb: _Notebook) -> None:
    """Record the global names a student's function changes (items, attributes) or calls methods of."""
    local = nb.scope(fn).names
    body = fn.body if isinstance(fn.body, list) else [fn.body]
    stored, called = set(), set()
    for stmt in body:
        for node in ast.walk(stmt):
            stored |= _changed_roots(node)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                root = node.func.value
                while isinstance(root, (ast.Attribute, ast.Subscript)):
                    root = root.value
                if isinstance(root, ast.Name):
                    called.add(root.id)
    for name in stored - local:
        nb.fillers.setdefault(name, []).append(fn)
    for name in called - local:
        nb.calling_fillers.setdefault(name, []).append(fn)


def _members(stmt):
    """``(name, node)`` for what a class-body statement defines: defs, classes, assigned values."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield stmt.name, stmt
    elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
        for target in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
            for name in _stored_names(target):
                yield name, stmt.value


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPES = _FUNCTIONS + _COMPREHENSIONS


def _scope_of(node) -> _Scope:
    """The names ``node`` (a function, lambda, comprehension or class) binds in its own scope.

    Nested functions, lambdas, classes and comprehensions have scopes of their own: a name
    they assign does not shadow the global one here (only their own names and ``:=`` do).
    """
    names, units, imports, declared = set(), {}, {}, set()
    if isinstance(node, _COMPREHENSIONS):
        return _Scope(frozenset(n for g in node.generators for n in _stored_names(g.target)), {}, {})
    if isinstance(node, _FUNCTIONS):
        args = node.args
        names |= {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
        names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    todo = list(node.body) if isinstance(node.body, list) else [node.body]
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
            units.setdefault(n.name, []).append(n)  # every one: which runs may depend on a branch
            todo += _definition_time(n)
            continue
        if isinstance(n, ast.Lambda):
            todo += _definition_time(n)
            continue
        if isinstance(n, _COMPREHENSIONS):
            names |= {w.target.id for w in ast.walk(n) if isinstance(w, ast.NamedExpr)}
            continue
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            names.add(n.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            for alias in n.names:
                bound = alias.asname or (alias.name.split(".")[0] if isinstance(n, ast.Import) else alias.name)
                names.add(bound)
                if isinstance(n, ast.Import):
                    imports[bound] = (alias.name if alias.asname else bound, None)
                else:
                    imports[bound] = ("." * n.level + (n.module or ""), alias.name)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            declared |= set(n.names)
        elif isinstance(n, ast.Assign) and isinstance(n.value, ast.Lambda):
            for target in n.targets:
                if isinstance(target, ast.Name):
                    units.setdefault(target.id, []).append(n.value)
        for attr in ("name", "rest"):  # match patterns bind names too
            if isinstance(getattr(n, attr, None), str) and not isinstance(n, ast.ExceptHandler) \
                    and type(n).__name__.startswith("Match"):
                names.add(getattr(n, attr))
        todo.extend(ast.iter_child_nodes(n))
    names -= declared
    return _Scope(frozenset(names), {k: v for k, v in units.items() if k not in declared}, imports)


def _definition_time(node) -> list:
    """The parts of a def, class or lambda that run where it is defined."""
    parts = list(getattr(node, "decorator_list", []))
    if isinstance(node, ast.ClassDef):
        return parts + node.bases + [k.value for k in node.keywords]
    args = node.args
    return parts + args.defaults + [d for d in args.kw_defaults if d is not None]


def _chain_of(node) -> tuple:
    """The scopes ``node`` sees, innermost first (class bodies are not seen by their methods)."""
    chain = []
    parent = getattr(node, "_rules_parent", None)
    while parent is not None:
        if isinstance(parent, _SCOPES):
            chain.append(parent)
        parent = getattr(parent, "_rules_parent", None)
    return tuple(chain)


def _plain_decorator(node) -> bool:
    """Decorators that do not hand the function to other code (``@property``...)."""
    return (isinstance(node, ast.Name) and node.id in ("staticmethod", "classmethod", "property")) or (
        isinstance(node, ast.Attribute) and node.attr in ("setter", "getter", "deleter"))


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    parts.append(node.id if isinstance(node, ast.Name) else "...")
    return ".".join(reversed(parts))


# ------------------------------------------------------------------------------------------
# Loops and what an answer reaches

@dataclasses.dataclass
class _Summary:
    """Loops, imports and helpers of a unit (a global name, a function, method or class)."""

    count: int = 0
    depth: int = 0
    loops: set = dataclasses.field(default_factory=set)
    imports: set = dataclasses.field(default_factory=set)
    helpers: set = dataclasses.field(default_factory=set)

    def loop(self, level: int, label: str | None = None) -> None:
        """One loop at ``level`` (its body runs one deeper)."""
        self.count += 1
        self.depth = max(self.depth, level + 1)
        if label:
            self.loops.add(label)

    def add(self, other: "_Summary", level: int) -> None:
        """What ``other`` loops, run at ``level`` (each call of it runs its loops again)."""
        self.count += other.count
        if other.count:
            self.depth = max(self.depth, level + other.depth)
        self.loops |= other.loops
        self.imports |= other.imports
        self.helpers |= other.helpers


@dataclasses.dataclass
class _Edge:
    """A unit reached from another: run once (``call``) or once per item (``item``)."""

    target: tuple
    level: int
    item: str | None = None   # the label of a per-item call
    inside_function: bool = False
    filler: bool = False      # the target may have put something into this unit (not a call)


@dataclasses.dataclass
class _Facts(_Summary):
    """A unit's own loops and the units it reaches."""

    edges: list = dataclasses.field(default_factory=list)


class _Analysis:
    """One answer's analysis: every unit walked at most once, within a deadline."""

    def __init__(self, nb: _Notebook, deadline: float):
        self.nb = nb
        self.deadline = deadline
        self.memo: dict = {}
        self.nodes: dict = {}
        self.steps = 0

    def tick(self) -> None:
        self.steps += 1
        if self.steps & 255 == 1 and time.process_time() >= self.deadline:
            raise _Overrun

    def report(self, name: str) -> LoopReport:
        s = self.summary(("g", name))
        return LoopReport(s.count, s.depth, tuple(sorted(s.loops)), tuple(sorted(s.imports)),
                          tuple(sorted(s.helpers)))

    # -- summaries: a depth-first walk over units, with an explicit stack ------------------

    def summary(self, key) -> _Summary:
        """``key``'s loops with those of everything it reaches (a unit met again while still
        being summarised is recursion: a loop)."""
        if key in self.memo:
            return self.memo[key]
        stack = [[key, self.facts(key), 0, None]]
        stack[-1][3] = self._start(stack[-1][1])
        active = {key: 0}  # unit -> its place on the stack
        while stack:
            entry = stack[-1]
            unit, facts, i, acc = entry
            if i == len(facts.edges):
                stack.pop()
                del active[unit]
                self.memo[unit] = acc
                if stack:
                    parent = stack[-1]
                    self._apply(parent[3], parent[1].edges[parent[2]], acc)
                    parent[2] += 1
                continue
            edge = facts.edges[i]
            if edge.target in self.memo:
                self._apply(acc, edge, self.memo[edge.target])
            elif edge.target in active:
                # back where it started: recursion, unless the way back is a function that
                # only filled a container this unit reads (a cache, a counter)
                filled = any(e[1].edges[e[2]].filler for e in stack[active[edge.target]:])
                if edge.item:
                    acc.loop(edge.level, edge.item)
                elif not filled and (self._callable(edge.target) or edge.inside_function):
                    acc.loop(edge.level, f"{self._label(edge.target)} (calls itself)")
            else:
                child = self.facts(edge.target)
                active[edge.target] = len(stack)
                stack.append([edge.target, child, 0, self._start(child)])
                continue
            entry[2] += 1
        return self.memo[key]

    @staticmethod
    def _start(facts: _Facts) -> _Summary:
        return _Summary(facts.count, facts.depth, set(facts.loops), set(facts.imports), set(facts.helpers))

    @staticmethod
    def _apply(acc: _Summary, edge: _Edge, child: _Summary) -> None:
        if edge.item:
            acc.loop(edge.level, edge.item)
            acc.add(child, edge.level + 1)
        else:
            acc.add(child, edge.level)

    def _function(self, key) -> bool:
        """A def or lambda of the notebook (a student's, if global)."""
        if key[0] == "u":
            return not isinstance(self.nodes[key[1]], ast.ClassDef)
        binding = self.nb.table[key[1]]
        return binding.student and binding.kind in ("def", "lambda")

    def _callable(self, key) -> bool:
        if key[0] == "u":
            return True
        binding = self.nb.table.get(key[1])
        return binding is not None and binding.kind in ("def", "lambda", "class", "alias")

    def _label(self, key) -> str:
        if key[0] == "g":
            return key[1]
        node = self.nodes[key[1]]
        return self.nb.labels.get(key[1]) or getattr(node, "name", "a lambda")

    # -- one unit's own facts --------------------------------------------------------------

    def facts(self, key) -> _Facts:
        """What one unit does itself: its loops, imports, and the units it reaches."""
        f = _Facts()
        if key[0] == "u":
            self._unit(f, self.nodes[key[1]])
            return f
        name = key[1]
        nb = self.nb
        binding = nb.table.get(name)
        if binding is None:
            return f
        self._bound(f, binding, True)
        for earlier in nb.alternatives.get(name, ()):
            self._bound(f, earlier, False)
        if binding.kind in ("value", "other") and binding.student:
            # a container filled later (ops.update(d=f), ops.append(f)) holds what was put in it
            self._walk(f, [(s, 0, ()) for s in nb.mentions.get(name, ())])
            for fn in nb.calling_fillers.get(name, ()):
                f.edges.append(_Edge(self._key(fn), 0, filler=True))
        self._walk(f, [(s, 0, ()) for s in nb.mutations.get(name, ())])
        for fn in nb.fillers.get(name, ()):
            f.edges.append(_Edge(self._key(fn), 0, filler=True))
        return f

    def _bound(self, f: _Facts, binding: _Binding, here: bool) -> None:
        """What a global binding holds: a def, class or lambda (walked ``here``, as the name's
        own unit, or reached), an import, an alias, or a student's value."""
        if binding.kind == "import":
            self._imported(f, binding.module)
        elif binding.kind in ("def", "lambda", "class"):
            if here:
                self._unit(f, binding.node)
            else:
                f.edges.append(_Edge(self._key(binding.node), 0))
        elif binding.kind == "alias":
            if binding.node.id in self.nb.table:
                f.edges.append(_Edge(("g", binding.node.id), 0))
        elif binding.student:
            self._walk(f, [(binding.node, 0, ())])

    def _key(self, node) -> tuple:
        self.nodes[id(node)] = node
        return ("u", id(node))

    @staticmethod
    def _imported(f: _Facts, module: str) -> None:
        if module.lstrip(".").split(".")[0] == "helpers" or module.startswith("."):
            f.helpers.add(module)
        else:
            f.imports.add(module)

    def _unit(self, f: _Facts, node) -> None:
        """A def, lambda or class: what runs when it is called (or instantiated)."""
        outer = _chain_of(node)
        todo = [(n, 0, outer) for n in _definition_time(node)]
        if isinstance(node, ast.ClassDef):
            inner = (node,) + outer
            self.nb.scope(node)
            for stmt in node.body:
                members = list(_members(stmt))
                for name, member in members:
                    label = f"{node.name}.{name} (a method Python or numpy may call once per item)"
                    if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                        # __init__ runs once per object; any other method may run once per item
                        f.edges.append(_Edge(self._key(member), 0, None if name == "__init__" else label))
                    elif self._holds_callable(member, inner):
                        f.loop(0, label)
                if not any(isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                           for _, m in members):
                    todo.append((stmt, 0, inner))
        else:
            inner = (node,) + outer
            self.nb.scope(node)
            todo += [(s, 0, inner) for s in (node.body if isinstance(node.body, list) else [node.body])]
        if not all(_plain_decorator(d) for d in getattr(node, "decorator_list", [])):
            f.loop(0, f"{node.name} (passed to a decorator)")
        self._walk(f, todo)

    def _resolve(self, name: str, chain: tuple) -> list:
        """The units ``name`` may refer to where ``chain`` is seen: ("u", id) for the defs,
        classes or lambdas of an enclosing scope, ("g", name) for a global, none for other
        locals (parameters, variables) and unknown names (builtins)."""
        for scope_node in chain:
            scope = self.nb.scope(scope_node)
            if name in scope.names:
                return [self._key(unit) for unit in scope.units.get(name, ())]
        return [("g", name)] if name in self.nb.table else []

    def _local_import(self, name: str, chain: tuple):
        for scope_node in chain:
            scope = self.nb.scope(scope_node)
            if name in scope.names:
                return scope.imports.get(name, False)
        return None

    def _holds_callable(self, expr, chain: tuple) -> bool:
        """Whether ``expr`` holds a lambda or a def, lambda or class of the notebook (not only
        calls one: ``A()`` is an object, ``staticmethod(f)`` holds f)."""
        called = {id(n.func) for n in ast.walk(expr) if isinstance(n, ast.Call)}
        for n in ast.walk(expr):
            if isinstance(n, ast.Lambda):
                return True
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in called \
                    and any(self._callable(key) for key in self._resolve(n.id, chain)):
                return True
        return False

    def _walk(self, f: _Facts, todo: list) -> None:
        """Count the loops under each ``(node, level, chain)`` and record the units they reach."""
        nb = self.nb
        while todo:
            node, level, chain = todo.pop()
            self.tick()
            if isinstance(node, ast.ClassDef):
                f.edges.append(_Edge(self._key(node), level))  # a class body runs where it stands
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # a def inside the code: only its decorators and defaults run here; it runs when named
                todo += [(n, level, chain) for n in _definition_time(node)]
                if not all(_plain_decorator(d) for d in node.decorator_list):
                    f.loop(level, f"{node.name} (passed to a decorator)")
                continue
            if isinstance(node, ast.Lambda):
                todo += [(n, level, chain) for n in _definition_time(node)]
                if id(node) not in nb.named_lambdas:  # an anonymous lambda runs where it is passed
                    todo.append((node.body, level, (node,) + chain))
                continue
            if isinstance(node, ast.Call) and id(node) in nb.magics:
                magic = nb.magics[id(node)]
                if magic.code is not None and magic.code.tree is not None:
                    if magic.repeats:
                        f.loop(level, "%timeit (it runs its code many times)")
                        level += 1
                    todo += [(s, level, chain) for s in magic.code.tree.body]
                continue
            inner = chain
            if isinstance(node, LOOP_NODES):
                f.count += 1
                level += 1
                f.depth = max(f.depth, level)
                if isinstance(node, _COMPREHENSIONS):
                    inner = (node,) + chain
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self._imported(f, alias.name)
            elif isinstance(node, ast.ImportFrom):
                self._imported(f, "." * node.level + (node.module or ""))
            looping = self._loop_reference(node, chain)
            if looping:
                f.loop(level, looping)
            if isinstance(node, ast.Call):
                self._call(f, node, level, chain)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and self._holds_callable(node.value, chain):
                        f.loop(level, f"{_dotted(target)} (a function stored on an object, which "
                                      "Python or numpy may call once per item)")
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                for method in nb.methods.get(node.attr, ()):
                    f.edges.append(_Edge(self._key(method), level, None, bool(chain)))
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                inside = any(isinstance(c, _FUNCTIONS) for c in chain)
                f.edges += [_Edge(key, level, None, inside) for key in self._resolve(node.id, chain)]
            todo += [(child, level, inner) for child in ast.iter_child_nodes(node)]

    def _call(self, f: _Facts, node: ast.Call, level: int, chain: tuple) -> None:
        # a call counted as a loop already (map, reduce, key=...) is not counted again for its lambda
        counted = self._loop_reference(node.func, chain) is not None or any(
            k.arg == "key" and not (isinstance(k.value, ast.Constant) and k.value.value is None)
            for k in node.keywords)
        for arg in list(node.args) + [k.value for k in node.keywords]:
            # a function of the notebook handed on as a value can be called again and again
            if isinstance(arg, ast.Name) and any(self._function(key) for key in self._resolve(arg.id, chain)):
                f.loop(level, f"{arg.id} (passed on as a value)")
            elif not counted and not isinstance(arg, ast.Name) and self._holds_callable(arg, chain):
                # a lambda written in the call, [f] * n, {"k": f}: numpy may call it per item
                # (np.piecewise, np.loadtxt(converters=...))
                f.loop(level, "a function passed on as a value (in the call itself or a container)")
        if isinstance(node.func, ast.Name) and node.func.id == "type" and len(node.args) == 3 \
                and self._holds_callable(node.args[2], chain):
            f.loop(level, "a class made with type(...), whose methods Python or numpy may call once per item")
        for keyword in node.keywords:
            if keyword.arg == "key" and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is None):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "a call")
                f.loop(level, f"{called}(key=...)")
        if isinstance(node.func, ast.Name) and node.func.id == "iter" and len(node.args) == 2:
            f.loop(level, "iter(callable, sentinel)")

    def _loop_reference(self, node, chain: tuple) -> str | None:
        """The looping function ``node`` names (``np.vectorize``, ``map``, ...), if any.

        A reference counts, not only a call: ``vec = np.vectorize`` hides the call behind a
        name. ``reduce``/``accumulate``/``starmap`` are functools' and itertools' (a bare name
        bound to them, or an attribute), not the methods of numpy's ufuncs.
        """
        if isinstance(node, ast.Name) and node.id in LOOP_CALLS and isinstance(node.ctx, ast.Load):
            if node.id in ITERTOOLS_CALLS:
                local = self._local_import(node.id, chain)
                if local is False:
                    return None  # a local variable of that name: its value is counted where it is set
                binding = self.nb.table.get(node.id) if local is None else None
                if binding is not None and binding.kind != "import":
                    return None  # the notebook's own function or value of that name: followed
            return node.id
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            module, attr = self._imported_as(node.id, chain) or ("", None)
            return attr if attr in LOOP_CALLS else None  # from functools import reduce as fold
        if isinstance(node, ast.Attribute) and node.attr in LOOP_CALLS:
            if node.attr in UFUNC_METHODS and self._is_ufunc(node.value, chain):
                return None
            return node.attr
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and node.args[1].value in LOOP_CALLS:
            if node.args[1].value in UFUNC_METHODS and self._is_ufunc(node.args[0], chain):
                return None
            return str(node.args[1].value)
        return None

    def _is_ufunc(self, node, chain: tuple) -> bool:
        """Whether ``node`` is one of numpy's ufuncs: ``np.add``, or ``add`` from numpy."""
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return node.attr in UFUNC_NAMES and self._imported_as(node.value.id, chain) == ("numpy", None)
        if isinstance(node, ast.Name):
            module, attr = self._imported_as(node.id, chain) or ("", None)
            return module == "numpy" and attr in UFUNC_NAMES
        return False

    def _imported_as(self, name: str, chain: tuple):
        local = self._local_import(name, chain)
        if local is not None:
            return local or None
        binding = self.nb.table.get(name)
        if binding is not None and binding.kind == "import":
            return binding.module, binding.attr
        return None


def analyse(name: str, cells: list[Cell]) -> LoopReport:
    """Loops, imports and helpers reachable from the notebook's definition of ``name``."""
    deadline = time.process_time() + ANALYSIS_SECONDS
    return _Analysis(_notebook(tuple(cells), deadline), deadline).report(name)


# ------------------------------------------------------------------------------------------
# The rules, per answer

LOOP_RULES = {
    "compute_distances_two_loops": ("two nested loops (over the test points and the training points)",
                                    lambda r: r.depth >= 2, None),
    "compute_distances_one_loop": ("exactly one loop", lambda r: r.count == 1, "two-loops-in-one-loop"),
    "compute_distances_no_loops": ("no loop at all", lambda r: r.count == 0, "loop-in-no-loops"),
}


def violations(name: str, cells: list[Cell], *, function: bool) -> list[Violation]:
    """The rules ``name``'s answer breaks, in the order a student should fix them.

    Never raises for what a notebook contains: an analysis past its deadline, or one that
    still reaches Python's recursion limit, fails this answer with a message.
    """
    deadline = time.process_time() + ANALYSIS_SECONDS
    try:
        return _violations(name, tuple(cells), function, deadline)
    except _Overrun:
        return [Violation(f"the grader could not analyse `{name}` in time (it has "
                          f"{ANALYSIS_SECONDS:g} s): simplify your notebook's code.")]
    except RecursionError:
        return [Violation(f"the grader could not analyse `{name}`: its code is nested too deeply; "
                          "simplify it.")]


def _violations(name: str, cells: tuple, function: bool, deadline: float) -> list[Violation]:
    nb = _notebook(cells, deadline)
    unreadable = [(c, r.problem) for c, r in zip(cells, nb.reads) if c.student and r.problem]
    if unreadable:
        where = "; ".join(f"{_where(c)}: {problem}" for c, problem in unreadable)
        return [Violation(f"the grader could not read {where}; simplify it. Until it can, no answer "
                          "of this notebook can be checked.")]
    out: list[Violation] = []
    # Hidden code can rebind any name of the notebook (exec in max_pool2d's cell can replace
    # conv2d), so what the rules read of every answer is unknown wherever it is.
    hidden = [(c, r.hidden) for c, r in zip(cells, nb.reads) if c.student and r.hidden]
    if hidden:
        uses = "; ".join(f"{_where(c)} uses {', '.join(sorted(set(h)))}" for c, h in hidden)
        out.append(Violation(
            f"answers must be plain code, but {uses}. Code that hides what it runs (exec, eval, "
            "__import__, globals(), dunder attributes, get_ipython, shell commands, magics that run "
            "or load code such as %run) is not allowed: it could replace any answer, so no answer of "
            "this notebook gets its points until it is gone.", "dynamic-code"))
    analysis = _Analysis(nb, deadline)
    binding = nb.table.get(name)
    if not function:
        if binding is not None and analysis.report(name).helpers:
            out.append(Violation("your answer is computed with the course's `helpers` package, which "
                                 "is there for the pictures; work it out yourself.", "uses-course-helpers"))
        return out
    if any(c.answer == name and c.student and r.tree is None for c, r in zip(cells, nb.reads)):
        out.append(Violation(f"the answer cell of `{name}` is not valid Python; fix the syntax error."))
        return out
    if binding is None or binding.nested or (
            binding.kind not in ("def", "lambda", "alias") and binding.student):
        out.append(Violation(f"define `{name}` with `def {name}(...)` at the top level of its answer "
                             "cell (not inside if/try/with or a magic), so the grader can read it.",
                             "dynamic-code" if binding is not None and binding.nested else None))
        return out
    report = analysis.report(name)
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
            extra = (f" (it calls {', '.join(report.loop_calls)}, which loops)"
                     if report.loop_calls else "")
            out.append(Violation(
                f"must use {rule}; yours has {report.count} loop(s), nested {report.depth} deep"
                f"{extra}. Loops inside functions of your notebook that it calls count too.",
                slug if report.count else None))
    return out
