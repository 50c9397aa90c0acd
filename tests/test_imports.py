"""The house rules on imports: no cycle among tiedhmm's modules, internal imports at
module level only, and a light ``import tiedhmm``."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tiedhmm"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The tiedhmm modules an ``ImportFrom`` names (``from . import x`` names ``x``)."""
    if node.level == 0:
        base = node.module or ""
    else:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[:len(anchor) - node.level + 1]
        base = ".".join(anchor + ([node.module] if node.module else []))
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def _imports() -> dict[str, list[tuple[str, bool]]]:
    """Each module's tiedhmm imports, with whether they sit inside a function."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, list[tuple[str, bool]]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text())
        inside = {id(node) for function in ast.walk(tree)
                  if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
                  for node in ast.walk(function)}
        found = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = _resolve(module, path.name == "__init__.py", node)
            else:
                continue
            found += [(name, id(node) in inside) for name in names if name in modules]
        graph[module] = found
    return graph


def _find_cycle(found: dict[str, list[tuple[str, bool]]]) -> list[str] | None:
    """A cycle of module imports, or None. A module that imports its own package
    (``from . import x``) depends on x, which ``_resolve`` names, not on the package."""
    graph = {module: {name for name, _ in names if not module.startswith(name + ".")}
             - {module} for module, names in found.items()}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for name in sorted(graph[module]):
            if state.get(name) == 1:
                return [*path[path.index(name):], name]
            if name not in state and (cycle := visit(name)):
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_module_imports_have_no_cycle():
    found = _imports()
    assert len(found) > 20  # the walk saw the whole package
    cycle = _find_cycle(found)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_internal_modules_are_imported_at_module_level_only():
    late = [(module, name) for module, found in _imports().items()
            for name, in_function in found if in_function]
    assert late == []


def test_cycle_check_sees_a_cycle_held_open_by_a_function_level_import(tmp_path,
                                                                        monkeypatch):
    package = tmp_path / "tiedhmm"
    package.mkdir()
    (package / "__init__.py").write_text("from . import a\n")
    (package / "a.py").write_text("from .b import thing\n")
    (package / "b.py").write_text("def f():\n    from . import a\nthing = 1\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    found = _imports()
    assert ("tiedhmm.a", True) in found["tiedhmm.b"]
    assert _find_cycle(found) == ["tiedhmm.a", "tiedhmm.b", "tiedhmm.a"]


def test_import_tiedhmm_stays_light():
    """No optional dependency, and neither of scipy's linalg and special (0.1 s of every
    command-line run), which only some emission and variational models import, on
    first use."""
    code = ("import sys, tiedhmm; "
            "print(sorted(m for m in ('Bio', 'tqdm', 'dask', 'distributed', 'matplotlib', "
            "'scipy.linalg', 'scipy.special') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


#: ``x._name`` accesses that stay, each with why (file relative to the package, the
#: expression as ``ast.unparse`` writes it).
PRIVATE_ACCESS_ALLOWED = {
    ("em/model.py", "self._monitor._reset"):
        "a monitor the user sets may be hmmlearn's, whose only reset is _reset",
    ("io/checks.py", "np.random.mtrand._rand"):
        "numpy's global RandomState (random_state=None in scikit-learn and hmmlearn); "
        "numpy has no public name for it",
}


def _private_accesses(package: Path) -> set[tuple[str, str]]:
    """Every ``x._name`` in the package where ``x`` is not ``self``, ``cls`` or
    ``super()`` (dunder names are protocol, not private)."""
    found = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                continue
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)
                    and owner.func.id == "super"):
                continue
            found.add((path.relative_to(package).as_posix(), ast.unparse(node)))
    return found


def test_no_module_reaches_into_another_objects_private_members():
    assert _private_accesses(PACKAGE) == set(PRIVATE_ACCESS_ALLOWED)


def test_private_access_check_sees_a_private_call(tmp_path):
    (tmp_path / "a.py").write_text("def f(model):\n    return model._compiled()\n"
                                   "class A:\n    def g(self):\n"
                                   "        return self._x, super()._y, self.b._z\n")
    assert _private_accesses(tmp_path) == {("a.py", "model._compiled"),
                                           ("a.py", "self.b._z")}


def test_the_top_level_holds_at_most_eight_modules_and_the_rest_is_in_named_folders():
    modules = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(modules) <= 8, modules
    for folder in ("hmm", "estimators", "variational", "pair", "msa", "io", "em", "emissions",
                   "speech", "_kernels"):
        init = PACKAGE / folder / "__init__.py"
        docstring = ast.get_docstring(ast.parse(init.read_text()))
        assert docstring and "import" in docstring, f"{folder}: say its job and its imports"
