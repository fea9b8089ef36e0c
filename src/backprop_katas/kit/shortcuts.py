"""Shortcuts the katas forbid, found in the submitted source: read as text, parsed, never imported.

The rules, all decided here, in the process that judges (in grading: the
grader, where learner code never runs):

- **By hand** (``BY_HAND`` in the kata's probe module, :func:`by_hand_rules`): a function
  that must compute gradients by hand may not reach autograd by any door: ``backward``,
  ``torch.autograd`` (``grad``, ``backward``, ``functional``, ``forward_ad``), ``torch.func`` / ``functorch``
  (``grad``, ``vjp``, ``jvp``, ``jacfwd``, ``jacrev``, ``hessian``...),
  ``requires_grad``, ``.grad``, hooks, the engine, ready-made backward ops
  (``torch.ops.aten.*_backward``, ``torch.nn.grad``). The check follows names
  bound at import (``from torch import autograd as a``, ``g = torch.autograd.grad``),
  calls into other functions and classes of the same file, and imports from
  sibling kata files (``from .k05_backprop import manual_gradients`` is checked
  as by hand too). A dynamic look-up it cannot resolve (``getattr`` with a
  computed name, ``eval``, ``globals()``...) is refused in such a function.
- **Not ready-made** (``READY_MADE``): a function whose docstring forbids a
  ready-made version of itself (k01's ``sigmoid``: ``torch.sigmoid``,
  ``x.sigmoid()``, ``expit``, ``nn.Sigmoid``, ``softmax``...) may not reach one,
  by the same walk.
- **Must use autograd** (``MUST_USE_AUTOGRAD``): a function of a kata about
  autograd must reach it (the right numbers by finite differences are refused);
  judged after its probe ran, so that a stub says it is a stub.
- **The tool is off limits** (every kata): a kata file may not import
  ``backprop_katas`` (its oracles and trainer would answer for the learner),
  nor use the machinery that could reach it unseen (``__import__``,
  ``importlib``, ``sys.modules``, ``eval``/``exec``, ``gc``, ``inspect``,
  ``pickle``, ``pydoc``, ``__globals__``...). Decided from imports, attribute
  access and calls resolved through the file's imports; a string is data (the
  tool named in a docstring, a comment or a print is no import).
- **No processes** (every kata): a kata file may not start a process
  (``subprocess``, ``os.system``, ``os.fork``, ``os.exec*``, ``multiprocessing``,
  ``pty``...): the process would run outside every check. The probe refuses
  them at run time too (``runner.no_processes``).

The in-process guard (``runner.forbid_autograd``) gives a readable message at
the moment autograd is called; this module decides. What static checking
cannot prove is written in docs/judging.md ("What \"by hand\" means").
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from backprop_katas.catalog import KATA_ID, PROBES_PACKAGE
from backprop_katas.files import read_regular
from backprop_katas.lang import Msg, say

_F = TypeVar("_F", bound=Callable[..., Any])


def _probe_fact(kata: str, name: str, default: Any) -> Any:
    """A per-kata fact its probe module declares: the kata's one home for it (a file `katas new`
    writes; the probe module is what a grading child imports, where katas.toml may not be readable)."""
    if not KATA_ID.fullmatch(kata):
        return default
    try:
        module = importlib.import_module(f"{PROBES_PACKAGE}.{kata}")
    except ModuleNotFoundError:
        return default
    return getattr(module, name, default)


def by_hand_rules(kata: str) -> tuple[str, ...]:
    """The functions of ``kata`` that must not use autograd ("Class.method" for a method): ``BY_HAND``."""
    return tuple(_probe_fact(kata, "BY_HAND", ()))


def ready_made_rules(kata: str) -> dict[str, frozenset[str]]:
    """The functions of ``kata`` whose docstring forbids a ready-made version, and the names that are
    one: ``READY_MADE`` ({function: family}) of its probe module, the families here."""
    return {function: READY_FAMILIES[family] for function, family in _probe_fact(kata, "READY_MADE", {}).items()}


def must_use_rules(kata: str) -> tuple[str, ...]:
    """The functions of a kata about autograd, each of which must reach it: ``MUST_USE_AUTOGRAD``."""
    return tuple(_probe_fact(kata, "MUST_USE_AUTOGRAD", ()))


# The functions whose docstring forbids a ready-made version of what they compute: the names
# (the last part of a dotted path, or a method) that compute it, by kata and function.
SIGMOID_READY = frozenset(
    {
        "sigmoid",
        "sigmoid_",
        "expit",
        "Sigmoid",
        "logsigmoid",
        "LogSigmoid",
        "log_expit",
        "silu",
        "silu_",
        "SiLU",
        "softmax",
        "log_softmax",
        "Softmax",
        "LogSoftmax",
        "softmin",
        "Softmin",
        "glu",
        "GLU",
        "softplus",
        "Softplus",
        "sigmoid_backward",
    }
)
# The ready-made versions a kata's READY_MADE may forbid, by family (a probe module names the family).
READY_FAMILIES: dict[str, frozenset[str]] = {"sigmoid": SIGMOID_READY}

TOOL = "backprop_katas"

# Resolved names (after aliases) that are autograd, by prefix; and the few harmless ones under them.
AUTOGRAD_PREFIXES = (
    "torch.autograd",
    "torch.func",
    "functorch",
    "torch._functorch",
    "torch._C",
    "torch.Tensor.backward",
    "torch.Tensor.requires_grad_",
    "torch.Tensor.retain_grad",
    "torch.Tensor.register_hook",
    "torch.Tensor.grad",
    "torch.enable_grad",
    "torch.set_grad_enabled",
    "torch._make_dual",
    "torch._unpack_dual",
    "torch.nn.utils.stateless",
    "torch.nn.grad",  # conv2d_input, conv2d_weight...: ready-made backward passes
    "torch.utils.checkpoint",
    "torch.ops.aten",  # only its *_backward ops: see _is_autograd
    "torch._dynamo",
    "torch._higher_order_ops",
)
AUTOGRAD_ALLOWED = (
    "torch.autograd.Function",
    "torch.autograd.function.Function",
    "torch.autograd.no_grad",
    "torch.autograd.grad_mode.no_grad",
    "torch.autograd.inference_mode",
    "torch.func.functional_call",
    "torch.func.vmap",
)
# Attributes that reach autograd on any object (a tensor's, a module's): no alias needed.
AUTOGRAD_ATTRIBUTES = frozenset(
    {
        "backward",
        "grad",
        "requires_grad_",
        "retain_grad",
        "register_hook",
        "register_post_accumulate_grad_hook",
        "grad_fn",
        "_grad_fn",
        "_execution_engine",
        "run_backward",
        "_make_dual",
        "_unpack_dual",
        "_fw_primal",
        "_fw_grad",
        "enable_grad",
        "set_grad_enabled",
    }
)
# Look-ups whose target is computed at run time: refused where the code must be by hand.
DYNAMIC_NAMES = frozenset(
    {
        "getattr",
        "setattr",
        "delattr",
        "eval",
        "exec",
        "compile",
        "globals",
        "vars",
        "locals",
        "__import__",
        "breakpoint",
    }
)
DYNAMIC_PATHS = frozenset({"operator.attrgetter", "operator.methodcaller"})
GRAD_SWITCHES = frozenset(
    {"torch.set_grad_enabled", "torch.autograd.set_grad_enabled", "torch.autograd.grad_mode.set_grad_enabled"}
)
# What could reach the tool (or anything) without naming it: refused in every kata file.
REACH_NAMES = frozenset({"__import__", "eval", "exec", "compile", "__builtins__", "breakpoint"})
REACH_MODULES = frozenset(
    {
        "importlib",
        "imp",
        "_imp",
        "runpy",
        "pkgutil",
        "gc",
        "inspect",
        "ctypes",
        "builtins",
        "code",
        "zipimport",
        # these import a module named by a string (pydoc.locate, pickle's globals, unittest.mock.patch)
        "pydoc",
        "pickle",
        "_pickle",
        "copyreg",
        "marshal",
        "shelve",
        "dill",
        "cloudpickle",
        "joblib",
        "unittest",
    }
)
# Dotted paths that import a module named by a string, under modules a kata file may use otherwise.
REACH_PATHS = frozenset(
    {
        "torch._utils",
        "torch.package",
        "torch.hub",
        "torch.load",
        "torch.serialization",
        "torch.utils.cpp_extension",
        "torch.ops.load_library",
        "torch.classes",
        "numpy.load",
        "logging.config",
        "sys.modules",
        "sys._getframe",
        "sys.meta_path",
        "sys.path_hooks",
        "sys.settrace",
        "sys.setprofile",
        "sys.addaudithook",
    }
)
# Starting a process: kata code may not (the child would run outside every in-process check).
PROCESS_MODULES = frozenset({"subprocess", "multiprocessing", "pty", "_posixsubprocess"})
PROCESS_OS = frozenset(
    {
        "system",
        "popen",
        "fork",
        "forkpty",
        "vfork",
        "posix_spawn",
        "posix_spawnp",
        "startfile",
        "execl",
        "execle",
        "execlp",
        "execlpe",
        "execv",
        "execve",
        "execvp",
        "execvpe",
        "spawnl",
        "spawnle",
        "spawnlp",
        "spawnlpe",
        "spawnv",
        "spawnve",
        "spawnvp",
        "spawnvpe",
    }
)
PROCESS_PATHS = frozenset(
    {"torch.multiprocessing", "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell", "asyncio.subprocess"}
)
REACH_ATTRIBUTES = frozenset(
    {
        "__globals__",
        "__builtins__",
        "__code__",
        "__closure__",
        "__subclasses__",
        "__loader__",
        "__spec__",
        "__getattribute__",
        "__dict__",
        "f_globals",
        "f_locals",
        "f_back",
        "f_builtins",
        "tb_frame",
        "gi_frame",
        "cr_frame",
        "_getframe",
        "modules",  # sys.modules (checked on sys only)
    }
)


@dataclass(frozen=True)
class Finding:
    """One forbidden construct: where it is, what it is, and how the checked function reaches it."""

    file: str
    line: int
    construct: str
    rule: str  # "autograd" | "dynamic" | "ready" | "tool" | "reach" | "process" | "unused"
    via: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


# --- reading the submission -------------------------------------------------------------------

_pinned: dict[Path, dict[str, str | None]] = {}


def pin(folder: Path, names: list[str]) -> None:
    """Read the kata files now, before any learner code runs: later checks use these texts.

    Grading pins the submission at start, so code that rewrites its own source while it runs
    (possible without Landlock) cannot change what the checks read."""
    folder = folder.resolve()
    _pinned[folder] = {name: _read(folder / name) for name in names}


def _read(path: Path) -> str | None:
    """The kata file's text, read bounded (a named pipe or a link to /dev/zero is not read): None if refused."""
    try:
        return read_regular(path).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def source_of(folder: Path, name: str) -> str | None:
    folder = folder.resolve()
    pinned = _pinned.get(folder)
    if pinned is not None and name in pinned:
        return pinned[name]
    return _read(folder / name)


# --- one module's names -----------------------------------------------------------------------


@dataclass
class Binding:
    kind: str  # "import" | "sibling" | "def" | "class" | "expr"
    target: str = ""  # import: dotted path; sibling: "kNN_name" or "kNN_name.attr"
    node: ast.AST | None = None
    line: int = 0


@dataclass
class ModuleInfo:
    name: str  # "k05_backprop"
    file: str  # "k05_backprop.py"
    tree: ast.Module
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    star_imports: list[str] = field(default_factory=list)
    sibling_stars: list[str] = field(default_factory=list)  # from .k05_backprop import *
    patches: list[Finding] = field(default_factory=list)  # writes into imported modules, anywhere in the file

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)


def _dotted(node: ast.AST) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


class Analysis:
    """The kata files of one folder, parsed on demand, and the checks over them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.modules: dict[str, ModuleInfo | None] = {}

    def module(self, name: str) -> ModuleInfo | None:
        if name not in self.modules:
            self.modules[name] = self._load(name)
        return self.modules[name]

    def is_kata_file(self, name: str) -> bool:
        return bool(name) and source_of(self.folder, name + ".py") is not None

    def _load(self, name: str) -> ModuleInfo | None:
        text = source_of(self.folder, name + ".py")
        if text is None:
            return None
        try:
            tree = ast.parse(text, filename=name + ".py")
        except (SyntaxError, ValueError):
            return None  # it cannot be imported either: the tests report that
        info = ModuleInfo(name, name + ".py", tree)
        for statement in tree.body:
            self._bind_statement(info, statement)
        for function in ast.walk(tree):  # `global g` in a function: what it assigns to g is g's value too
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                declared = {n for g in ast.walk(function) if isinstance(g, ast.Global) for n in g.names}
                for node in ast.walk(function):
                    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and declared:
                        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                        for assigned in targets:
                            for bound in ast.walk(assigned):
                                if isinstance(bound, ast.Name) and bound.id in declared and node.value is not None:
                                    info.bind(bound.id, Binding("expr", node=node.value, line=node.lineno))
        for node in ast.walk(tree):  # writes into a library anywhere: at import, or when a function runs
            if isinstance(node, ast.Call) and _is_setattr(node):
                written: ast.AST = node.args[0]
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                written = node
            else:
                continue
            if isinstance(written, (ast.Attribute, ast.Name)) and self._imported(info, written):
                construct = ast.unparse(node)[:60] + ("" if _is_setattr(node) else " = ...")
                info.patches.append(Finding(info.file, getattr(node, "lineno", 0), construct, "dynamic"))
        return info

    def _bind_statement(self, info: ModuleInfo, statement: ast.stmt) -> None:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.name.split(".")[0] in (info.name,) or self.is_kata_file(alias.name.split(".")[0]):
                    info.bind(alias.asname or alias.name, Binding("sibling", alias.name, line=statement.lineno))
                elif alias.asname:
                    info.bind(alias.asname, Binding("import", alias.name, line=statement.lineno))
                else:
                    root = alias.name.split(".")[0]
                    info.bind(root, Binding("import", root, line=statement.lineno))
        elif isinstance(statement, ast.ImportFrom):
            module = statement.module or ""
            if module == "__future__":
                return
            sibling = statement.level > 0 or self.is_kata_file(module.split(".")[0])
            for alias in statement.names:
                if alias.name == "*":
                    (info.sibling_stars if sibling else info.star_imports).append(module)
                    continue
                name = alias.asname or alias.name
                if sibling:
                    target = f"{module}.{alias.name}" if module else alias.name
                    info.bind(name, Binding("sibling", target, line=statement.lineno))
                else:
                    info.bind(name, Binding("import", f"{module}.{alias.name}", line=statement.lineno))
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            info.bind(statement.name, Binding("def", node=statement, line=statement.lineno))
        elif isinstance(statement, ast.ClassDef):
            info.bind(statement.name, Binding("class", node=statement, line=statement.lineno))
        elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            value = statement.value
            for assigned in targets:
                for node in ast.walk(assigned):
                    if isinstance(node, ast.Name):
                        info.bind(node.id, Binding("expr", node=value, line=statement.lineno))
        elif isinstance(statement, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            for child in ast.iter_child_nodes(statement):
                if isinstance(child, ast.stmt):
                    self._bind_statement(info, child)
                elif isinstance(child, ast.ExceptHandler):
                    for inner in child.body:
                        self._bind_statement(info, inner)
            if isinstance(statement, (ast.With, ast.For)):
                for node in ast.walk(statement.items[0] if isinstance(statement, ast.With) else statement.target):
                    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                        value = statement.iter if isinstance(statement, ast.For) else statement.items[0].context_expr
                        info.bind(node.id, Binding("expr", node=value, line=statement.lineno))

    @staticmethod
    def _imported(info: ModuleInfo, node: ast.Attribute | ast.Name) -> bool:
        parts = _dotted(node)
        bindings = info.bindings.get(parts[0], []) if parts else []
        return any(b.kind in ("import", "sibling") for b in bindings)

    # --- every kata: the tool, and what could reach it unseen ---------------------------------

    def tool_findings(self, name: str) -> list[Finding]:
        """The tool, what could reach it unseen, and process starts: from imports, attribute access
        and calls, resolved through the file's import bindings. A string is data: naming the tool in
        a docstring, a comment or a print is no import (every door that imports by name is refused)."""
        info = self.module(name)
        if info is None:
            return []
        found: list[Finding] = []

        def add(node: ast.AST, rule: str, construct: str = "") -> None:
            found.append(Finding(info.file, getattr(node, "lineno", 0), construct or ast.unparse(node)[:80], rule))

        for node in ast.walk(info.tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                if isinstance(node, ast.ImportFrom) and node.level > 0:
                    continue  # a sibling kata file
                if isinstance(node, ast.Import):
                    paths = [a.name for a in node.names]
                else:
                    paths = [f"{node.module or ''}.{a.name}" for a in node.names]
                for path in paths:
                    rule = _module_rule(path)
                    if rule:
                        add(node, rule)
                        break
            elif isinstance(node, ast.Name) and node.id in REACH_NAMES and node.id not in info.bindings:
                add(node, "reach", node.id)
            elif isinstance(node, ast.Attribute):
                parts = _dotted(node)
                resolved = _resolve_import(info, parts) if parts else None
                rule = _path_rule(resolved) if resolved else ""
                if rule:
                    text = ast.unparse(node)[:60]
                    add(node, rule, text if text == resolved else f"{text} ({resolved})")
                elif node.attr in REACH_ATTRIBUTES and node.attr != "modules":
                    add(node, "reach")
        return _unique(found)

    # --- by hand: everything a function reaches -------------------------------------------------

    def by_hand_findings(
        self, name: str, function: str, ready: frozenset[str] = frozenset(), autograd: bool = True, last: bool = False
    ) -> list[Finding]:
        """What ``function`` reaches: autograd (unless ``autograd`` is False), the ``ready`` names,
        and the look-ups the check cannot follow. Every definition of the name is followed (a later
        one wins at run time), or only the last one with ``last`` (what runs, for a rule that asks
        the function to use something)."""
        info = self.module(name)
        if info is None:
            return []
        walker = _Walker(self, info.file, ready, autograd)
        head, _, member = function.partition(".")
        if member:
            walker.visit_member(info, head, member, (function,))
        else:
            bindings = info.bindings.get(head, [])
            for binding in bindings[-1:] if last else bindings:  # every definition: a later one wins at run time
                walker.follow(info, binding.node or info.tree, head, binding, (function,))
        findings = walker.findings
        if not findings:  # a file reached rewrites a library at import: what that changes is unknowable
            patched = [info, *(m for m in walker.modules if m is not info)]
            findings = [
                Finding(p.file, p.line, p.construct, "dynamic", (function,)) for m in patched for p in m.patches
            ]
        return _unique(findings)


def _resolve_import(info: ModuleInfo, parts: list[str]) -> str | None:
    """The dotted path ``parts`` names when its first name is bound by an import, else None."""
    bindings = info.bindings.get(parts[0], [])
    imports = [b for b in bindings if b.kind == "import"]
    if not imports:
        return None
    return ".".join([imports[-1].target, *parts[1:]])


def _path_rule(path: str) -> str:
    """The tool rule a used dotted path breaks ("tool", "reach", "process"), or ""."""
    parts = path.split(".")
    if parts[0] == TOOL:
        return "tool"
    if parts[0] in REACH_MODULES or any(path == p or path.startswith(p + ".") for p in REACH_PATHS):
        return "reach"
    if parts[0] in PROCESS_MODULES or any(path == p or path.startswith(p + ".") for p in PROCESS_PATHS):
        return "process"
    if parts[0] in ("os", "posix", "nt") and len(parts) > 1 and parts[1] in PROCESS_OS:
        return "process"
    if parts[0] == "concurrent" and "Process" in path:
        return "process"
    return ""


def _module_rule(path: str) -> str:
    """The rule an import of ``path`` (``a.b`` or ``a.b.name`` from ``from a.b import name``) breaks."""
    rule = _path_rule(path)
    if rule:
        return rule
    return _path_rule(path.rsplit(".", 1)[0]) if "." in path else ""


def _is_setattr(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" and bool(node.args)
    )


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _class_members(node: ast.ClassDef, name: str) -> list[ast.AST]:
    """What ``Class.name`` may be: its method definitions and class-body assignments of that name."""
    found: list[ast.AST] = []
    for statement in node.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and statement.name == name:
            found.append(statement)
        elif isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                found.append(statement.value)
    return found


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, int, str]] = set()
    kept = []
    for f in findings:
        key = (f.file, f.line, f.construct)
        if key not in seen:
            seen.add(key)
            kept.append(f)
    return kept


def _is_autograd(path: str) -> bool:
    if any(path == a or path.startswith(a + ".") for a in AUTOGRAD_ALLOWED):
        return False
    if path.startswith("torch.") and any(_is_backward_op(part) for part in path.split(".")[1:]):
        return True  # torch.ops.aten.sigmoid_backward, torch._C._nn.*_backward: a derivative ready-made
    if path == "torch.ops.aten" or path.startswith("torch.ops.aten."):
        return False  # the forward ops are arithmetic
    return any(path == p or path.startswith(p + ".") for p in AUTOGRAD_PREFIXES)


def _is_backward_op(name: str) -> bool:
    return name.endswith(("_backward", "_backward_data", "_double_backward")) or name.startswith("_backward")


class _Walker:
    """Walks one by-hand function and everything of the submission it names."""

    def __init__(
        self, analysis: Analysis, home: str, ready: frozenset[str] = frozenset(), autograd: bool = True
    ) -> None:
        self.analysis = analysis
        self.home = home  # the file of the function under check: names elsewhere carry their file
        self.ready = ready  # the ready-made functions this one may not call (READY_MADE)
        self.autograd = autograd  # False: autograd is allowed (a ready-made check only)
        self.findings: list[Finding] = []
        self.visited: set[tuple[str, int]] = set()
        self.modules: list[ModuleInfo] = []  # every file whose code the function reaches

    def add(self, info: ModuleInfo, node: ast.AST, construct: str, rule: str, via: tuple[str, ...]) -> None:
        if rule == "autograd" and not self.autograd:
            return
        self.findings.append(Finding(info.file, getattr(node, "lineno", 0), construct, rule, via))

    def visit_definition(self, info: ModuleInfo, node: ast.AST, via: tuple[str, ...]) -> None:
        key = (info.file, id(node))
        if key in self.visited:
            return
        self.visited.add(key)
        if info not in self.modules:
            self.modules.append(info)
        local = _local_names(node) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else set()
        self.scan(info, node, local, via)

    def visit_member(self, info: ModuleInfo, owner: str, member: str, via: tuple[str, ...]) -> None:
        for binding in info.bindings.get(owner, []):
            if binding.kind == "class" and isinstance(binding.node, ast.ClassDef):
                for node in _class_members(binding.node, member):
                    self.visit_definition(info, node, via)
                for base in binding.node.bases:  # an inherited member: check the bases too
                    self.scan(info, base, set(), via)
            else:
                self.follow(info, binding.node or info.tree, owner, binding, via)

    def scan(self, info: ModuleInfo, node: ast.AST, local: set[str], via: tuple[str, ...]) -> None:
        if not self.visit_node(info, node, local, via):
            for child in ast.iter_child_nodes(node):
                self.scan(info, child, local, via)

    def visit_node(self, info: ModuleInfo, node: ast.AST, local: set[str], via: tuple[str, ...]) -> bool:
        """Check one node; True when its children need no further look."""
        scoped = _scope_names(node)
        if scoped - local:  # a method in a class body, a lambda or a comprehension: its own names are local
            for child in ast.iter_child_nodes(node):
                self.scan(info, child, local | scoped, via)
            return True
        if isinstance(node, ast.Call):
            return self.visit_call(info, node, local, via)
        if isinstance(node, ast.keyword) and node.arg == "requires_grad":
            if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                self.add(info, node.value, "requires_grad=" + ast.unparse(node.value), "autograd", via)
        elif isinstance(node, ast.Attribute):
            return self.visit_attribute(info, node, local, via)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
            self.visit_name(info, node, via)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.visit_local_import(info, node, via)
        return False

    def visit_call(self, info: ModuleInfo, node: ast.Call, local: set[str], via: tuple[str, ...]) -> bool:
        func = node.func
        parts = _dotted(func)
        resolved = self.resolve(info, parts) if parts and parts[0] not in local else None
        if resolved in GRAD_SWITCHES and node.args and _is_false(node.args[0]):
            return True  # set_grad_enabled(False) turns autograd off: the same as torch.no_grad()
        if resolved in DYNAMIC_PATHS:
            self.add(info, node, _named(ast.unparse(func), resolved), "dynamic", via)
        if (
            isinstance(func, ast.Name)
            and func.id == "getattr"
            and func.id not in local
            and self.binding(info, "getattr") is None
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            # getattr(obj, "name") with a written-out name is obj.name: check it as that
            attribute = ast.Attribute(value=node.args[0], attr=node.args[1].value, ctx=ast.Load())
            ast.copy_location(attribute, node)
            self.scan(info, attribute, local, via)
            for extra in node.args[2:]:
                self.scan(info, extra, local, via)
            return True
        return False

    def visit_attribute(self, info: ModuleInfo, node: ast.Attribute, local: set[str], via: tuple[str, ...]) -> bool:
        parts = _dotted(node)
        if parts is not None and parts[0] not in local:
            binding = self.binding(info, parts[0])
            if binding is not None and binding.kind == "sibling":
                self.follow_sibling(info, node, binding.target, parts[1:], via)
                return True
            if binding is not None and binding.kind == "class":
                self.visit_member(info, parts[0], parts[1], (*via, f"{parts[0]}.{parts[1]}"))
                return True
            resolved = self.resolve(info, parts)
            if resolved is not None:
                if _is_autograd(resolved):
                    self.add(info, node, _named(ast.unparse(node), resolved), "autograd", via)
                if resolved.rsplit(".", 1)[-1] in self.ready:
                    self.add(info, node, _named(ast.unparse(node), resolved), "ready", via)
                return True
        if node.attr in self.ready:
            self.add(info, node, "." + node.attr, "ready", via)
        if _is_backward_op(node.attr) and not (isinstance(node.value, ast.Name) and node.value.id in local):
            self.add(info, node, "." + node.attr, "autograd", via)  # aten.sigmoid_backward through an alias
        elif node.attr in AUTOGRAD_ATTRIBUTES:
            if not (isinstance(node.ctx, ast.Store) and node.attr == "grad"):  # writing p.grad is bookkeeping
                self.add(info, node, "." + node.attr, "autograd", via)
        elif node.attr in REACH_ATTRIBUTES and node.attr != "modules":
            self.add(info, node, "." + node.attr, "dynamic", via)
        elif node.attr == "requires_grad" and isinstance(node.ctx, ast.Store):
            self.add(info, node, ast.unparse(node) + " = ...", "autograd", via)
        return False

    def visit_name(self, info: ModuleInfo, node: ast.Name, via: tuple[str, ...]) -> None:
        bindings = info.bindings.get(node.id)
        if not bindings:
            for module in info.sibling_stars:
                sibling = self.analysis.module(module)
                if sibling is not None and node.id in sibling.bindings:
                    self.follow_sibling(info, node, f"{module}.{node.id}", [], via)
                    return
            if node.id in DYNAMIC_NAMES:
                self.add(info, node, node.id + "(...)", "dynamic", via)
            elif info.star_imports and not hasattr(builtins, node.id):
                for module in info.star_imports:
                    if _is_autograd(f"{module}.{node.id}"):
                        self.add(info, node, f"{node.id} ({module}.{node.id})", "autograd", via)
                    elif node.id in self.ready:
                        self.add(info, node, f"{node.id} ({module}.{node.id})", "ready", via)
            elif not hasattr(builtins, node.id):
                # bound where the check cannot see it: a walrus, a `global` set by another function, exec
                self.add(info, node, f"{node.id}, a name defined nowhere the check can see", "dynamic", via)
            return
        for each in bindings:
            self.follow(info, node, node.id, each, via)

    def visit_local_import(self, info: ModuleInfo, node: ast.Import | ast.ImportFrom, via: tuple[str, ...]) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_autograd(alias.name):
                    self.add(info, node, f"import {alias.name}", "autograd", via)
        elif node.level == 0 and node.module and not self.analysis.is_kata_file(node.module.split(".")[0]):
            for alias in node.names:
                if _is_autograd(f"{node.module}.{alias.name}") or _is_autograd(node.module):
                    self.add(info, node, f"from {node.module} import {alias.name}", "autograd", via)
                elif alias.name in self.ready:
                    self.add(info, node, f"from {node.module} import {alias.name}", "ready", via)
        else:
            for alias in node.names:
                target = f"{node.module}.{alias.name}" if node.module else alias.name
                self.follow_sibling(info, node, target, [], via)

    def binding(self, info: ModuleInfo, name: str) -> Binding | None:
        bindings = info.bindings.get(name)
        return bindings[-1] if bindings else None

    def follow(self, info: ModuleInfo, node: ast.AST, name: str, binding: Binding, via: tuple[str, ...]) -> None:
        if binding.kind == "import":
            if _is_autograd(binding.target):
                self.add(info, node, f"{name} ({binding.target}, bound at line {binding.line})", "autograd", via)
            if binding.target.rsplit(".", 1)[-1] in self.ready:
                self.add(info, node, f"{name} ({binding.target}, bound at line {binding.line})", "ready", via)
        elif binding.kind == "sibling":
            self.follow_sibling(info, node, binding.target, [], via)
        elif binding.kind in ("def", "class") and binding.node is not None:
            label = name if info.file == self.home else f"{info.file}:{name}"
            self.visit_definition(info, binding.node, (*via, label) if via[-1:] != (label,) else via)
        elif binding.kind == "expr" and binding.node is not None:
            self.visit_definition(info, binding.node, (*via, f"{name} ({info.file}:{binding.line})"))

    def follow_sibling(
        self, info: ModuleInfo, node: ast.AST, target: str, rest: list[str], via: tuple[str, ...]
    ) -> None:
        """A name from another kata file of the submission: check what it names there, as by hand."""
        parts = [p for p in target.split(".") if p] + list(rest)
        module = self.analysis.module(parts[0]) if parts else None
        if module is None:
            return  # not a kata file: the import fails when the function runs
        if len(parts) == 1:
            self.add(info, node, f"the module {parts[0]} as a whole", "dynamic", via)
            return
        if len(parts) >= 3:
            self.visit_member(module, parts[1], parts[2], (*via, f"{module.file}:{parts[1]}.{parts[2]}"))
            return
        for binding in module.bindings.get(parts[1], []):
            self.follow(module, node, parts[1], binding, via)

    def resolve(self, info: ModuleInfo, parts: list[str]) -> str | None:
        """The dotted path ``parts`` names through an import binding, or None."""
        binding = self.binding(info, parts[0])
        if binding is None:
            if info.star_imports and not hasattr(builtins, parts[0]):
                return ".".join([info.star_imports[0], *parts])
            return None
        if binding.kind != "import":
            return None
        return ".".join([binding.target, *parts[1:]])


def _scope_names(node: ast.AST) -> set[str]:
    """The names a function, lambda or comprehension binds for its own body (empty for other nodes)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return _local_names(node)
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        return {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)} | {
            n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        }
    return set()


def _local_names(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and child is not node:
            names.add(child.name)
        elif isinstance(child, ast.arg):
            names.add(child.arg)
        elif isinstance(child, ast.ExceptHandler) and child.name:
            names.add(child.name)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in child.names)
        elif isinstance(child, (ast.MatchAs, ast.MatchStar)) and child.name:
            names.add(child.name)
        elif isinstance(child, ast.MatchMapping) and child.rest:
            names.add(child.rest)
    return names


# --- judges: what the tests call ----------------------------------------------------------------


def _texts(folder: Path) -> tuple[tuple[str, str | None], ...]:
    names = sorted(p.name for p in folder.glob("k*.py"))
    pinned = _pinned.get(folder.resolve(), {})
    return tuple((n, source_of(folder, n)) for n in sorted({*names, *pinned}))


@functools.lru_cache(maxsize=256)
def _cached(
    folder: Path, kata: str, function: str, kind: str, texts: tuple[tuple[str, str | None], ...]
) -> tuple[Finding, ...]:
    analysis = Analysis(folder)
    if kind == "by_hand":
        return tuple(analysis.by_hand_findings(kata, function))
    if kind == "ready":
        ready = ready_made_rules(kata).get(function, frozenset())
        return tuple(analysis.by_hand_findings(kata, function, ready, autograd=False))
    if kind == "uses":
        return tuple(f for f in analysis.by_hand_findings(kata, function, last=True) if f.rule == "autograd")
    return tuple(analysis.tool_findings(kata))


def _named(written: str, resolved: str) -> str:
    """How a construct is shown: as written, with what it stands for beside it when that differs
    (``ag.grad (torch.autograd.grad)``, but ``torch.autograd.grad`` once)."""
    return written if written == resolved else f"{written} ({resolved})"


def by_hand_findings(folder: Path, kata: str, function: str) -> list[Finding]:
    """Every way ``kata.function`` in ``folder`` reaches autograd or an unresolvable look-up."""
    return list(_cached(folder.resolve(), kata, function, "by_hand", _texts(folder)))


def ready_made_findings(folder: Path, kata: str, function: str) -> list[Finding]:
    """Every way ``kata.function`` reaches a ready-made version of itself (READY_MADE) or an unresolvable look-up."""
    return list(_cached(folder.resolve(), kata, function, "ready", _texts(folder)))


def autograd_used(folder: Path, kata: str, function: str) -> list[Finding]:
    """The autograd doors ``kata.function`` reaches: a kata about autograd needs at least one (MUST_USE_AUTOGRAD)."""
    return list(_cached(folder.resolve(), kata, function, "uses", _texts(folder)))


def tool_findings(folder: Path, kata: str) -> list[Finding]:
    """Imports of the tool, the dynamic machinery that could reach it, and process starts, in ``kata``'s file."""
    return list(_cached(folder.resolve(), kata, "", "tool", _texts(folder)))


def without_torch(kata: str) -> bool:
    """Whether ``kata``'s file must not import torch at all (its probe module's ``WITHOUT_TORCH``:
    k07's Value is the autograd, so every local derivative is written in plain Python)."""
    return bool(_probe_fact(kata, "WITHOUT_TORCH", False))


TORCH_MODULES = ("torch", "functorch")


def torch_findings(folder: Path, kata: str) -> list[Finding]:
    """Imports of torch in ``kata``'s file (read as text): what a kata ``without_torch`` may not do."""
    path = folder / f"{kata}.py"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if name.split(".")[0] in TORCH_MODULES:
                found.append(Finding(path.name, node.lineno, f"import {name}", "torch"))
    return found


def messages(finding: Finding, kata: str, function: str = "") -> list[Msg]:
    """The learner's sentences about one finding, unrendered."""
    if finding.rule == "torch":
        return [Msg("shortcut_torch", kata=kata, where=finding.where, construct=finding.construct)]
    if finding.rule == "tool":
        return [Msg("shortcut_tool", where=finding.where, construct=finding.construct)]
    if finding.rule == "reach":
        return [Msg("shortcut_reach", where=finding.where, construct=finding.construct)]
    if finding.rule == "process":
        return [Msg("shortcut_process", where=finding.where, construct=finding.construct)]
    key = {"dynamic": "shortcut_dynamic", "ready": "shortcut_ready"}.get(finding.rule, "shortcut_autograd")
    found = [Msg(key, function=f"{kata}.{function}", where=finding.where, construct=finding.construct)]
    if len(finding.via) > 1:
        found.append(Msg("shortcut_via", via=" → ".join(finding.via)))
    return found


def expect_autograd_used(folder: Path, kata: str, functions: list[str]) -> None:
    """The judge of a kata about autograd (MUST_USE_AUTOGRAD): fail when a function its probe called
    never reaches autograd. Called after the probe ran, so that a stub or a crash says so first."""
    from backprop_katas.kit.failure import Failure, JudgeFailed, Where

    for function in functions:
        if function in must_use_rules(kata) and not autograd_used(folder, kata, function):
            where = Where(f"{kata}.py", _line_of(folder, kata, function), function, "shortcut", folder.name)
            lines: list[Msg | str] = [Msg("shortcut_must_use", function=f"{kata}.{function}")]
            raise JudgeFailed(Failure(kind="judge", lines=lines, where=where))


def _line_of(folder: Path, kata: str, function: str) -> int:
    info = Analysis(folder).module(kata)
    bindings = info.bindings.get(function.partition(".")[0], []) if info is not None else []
    return bindings[-1].line if bindings else 0


def render(finding: Finding, kata: str, function: str = "") -> str:
    return "\n".join(str(m) for m in messages(finding, kata, function))


def check_by_hand(folder: Path, kata: str, function: str) -> str | None:
    """The learner-facing message when ``kata.function`` takes a shortcut, else None."""
    findings = by_hand_findings(folder, kata, function)
    if not findings:
        return None
    lines = [render(f, kata, function) for f in findings[:3]]
    if len(findings) > 3:
        lines.append(say("more_findings", n=len(findings) - 3))
    return "\n".join(lines)


def check_kata_file(folder: Path, kata: str) -> str | None:
    """The learner-facing message when ``kata``'s file imports the tool or could reach it unseen."""
    findings = tool_findings(folder, kata)
    if not findings:
        return None
    return "\n".join(render(f, kata) for f in findings[:3])


def by_hand_called(kata: str, probe: object, args: tuple[object, ...]) -> list[str]:
    """The functions with a source rule (BY_HAND, READY_MADE, MUST_USE_AUTOGRAD) a probe call reaches:
    those it declares, and those named in its arguments."""
    rules = {*by_hand_rules(kata), *ready_made_rules(kata), *must_use_rules(kata)}
    declared = list(getattr(probe, "by_hand", ()))
    named = [a for a in args if isinstance(a, str) and a in rules]
    return [f for f in dict.fromkeys([*declared, *named]) if f in rules]


def calls_by_hand(*functions: str) -> Callable[[_F], _F]:
    """Mark a probe as calling these by-hand functions (whatever its arguments)."""

    def mark(probe: _F) -> _F:
        probe.by_hand = functions  # type: ignore[attr-defined]
        return probe

    return mark


def expect_no_shortcut(folder: Path, kata: str, functions: list[str]) -> None:
    """The judge: fail the test with a learner's message when the kata file takes a forbidden shortcut.

    Reads the submitted file as text (never imports it); in grading this runs in the grader."""
    from backprop_katas.kit.failure import Failure, JudgeFailed, Where

    lines: list[Msg | str] = []
    first: tuple[Finding, str] | None = None
    for finding in tool_findings(folder, kata)[:3]:
        lines += messages(finding, kata)
        first = first or (finding, "")
    for finding in (torch_findings(folder, kata) if without_torch(kata) else [])[:3]:
        lines += messages(finding, kata)
        first = first or (finding, "")
    for function in functions:
        found: list[Finding] = []
        if function in by_hand_rules(kata):
            found += by_hand_findings(folder, kata, function)
        if function in ready_made_rules(kata):
            found += ready_made_findings(folder, kata, function)
        for finding in _unique(found)[:3]:
            lines += messages(finding, kata, function)
            first = first or (finding, function)
        if len(_unique(found)) > 3:
            lines.append(Msg("more_findings", n=len(_unique(found)) - 3))
    if first is None:
        return
    finding, function = first
    # "shortcut": the sentences above already name the line, so the place is data only
    where = Where(finding.file, finding.line, function, "shortcut", folder.name)
    raise JudgeFailed(Failure(kind="judge", lines=lines, where=where))
