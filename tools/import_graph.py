"""The package's import graph: cycles, imports inside functions, and the largest modules.

    python tools/import_graph.py [--strict]

Reads every module under wizard/ with ``ast`` (nothing is imported). An edge A -> B is an import of B
(or of a name from B) anywhere in A; an import inside a function or method is also counted apart, since
such imports are how a cycle is hidden. Prints the cycles among all imports (strongly connected
components of more than one module), the in-function imports of wizard/core with a count, and the ten
largest modules. With ``--strict`` exits 1 when wizard/core has a cycle, for CI.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "wizard"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve(current: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = current.split(".") if is_package else current.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def collect(modules: dict[str, Path]) -> tuple[dict[str, set[str]], list[tuple[str, int, str]]]:
    """Edges between our modules, and the in-function imports (module, line, target)."""
    edges: dict[str, set[str]] = defaultdict(set)
    lazy: list[tuple[str, int, str]] = []
    known = set(modules)

    def target_of(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        in_function: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        in_function.add(id(inner))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = resolve(name, is_package, node)
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            else:
                continue
            found = {t for t in (target_of(x) for x in targets if x.startswith(PACKAGE)) if t and t != name}
            # "from wizard.core import backup" names the submodule, not the package
            if isinstance(node, ast.ImportFrom) and any(f"{resolve(name, is_package, node)}.{a.name}" in known
                                                        for a in node.names):
                found.discard(resolve(name, is_package, node))
            if getattr(node, "module", None) == "__future__":
                continue
            if TYPE_CHECKING_LINES.get(name, set()) & {node.lineno}:
                continue
            edges[name] |= found
            if id(node) in in_function:
                lazy += [(name, node.lineno, t) for t in sorted(found)]
    return edges, lazy


TYPE_CHECKING_LINES: dict[str, set[int]] = {}


def note_type_checking(modules: dict[str, Path]) -> None:
    """Imports under ``if TYPE_CHECKING:`` are not imports at run time."""
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lines: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        lines.add(inner.lineno)
        TYPE_CHECKING_LINES[name] = lines


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strict", action="store_true", help="exit 1 when wizard/core has an import cycle")
    args = parser.parse_args()
    modules = {module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}
    note_type_checking(modules)
    edges, lazy = collect(modules)
    # A package's __init__ importing its own submodules is how it exports them, not a cycle.
    for name in list(edges):
        if modules[name].name == "__init__.py":
            edges[name] = {t for t in edges[name] if not t.startswith(name + ".")}
    found = cycles(edges)
    core_cycles = [c for c in found if all(m.startswith("wizard.core") for m in c)]
    print(f"import cycles: {len(found)} ({len(core_cycles)} inside wizard.core)")
    for component in found:
        print("  " + " <-> ".join(component))
    core_lazy = [x for x in lazy if x[0].startswith("wizard.core")]
    print(f"imports inside functions in wizard.core: {len(core_lazy)}")
    for module, line, target in core_lazy:
        print(f"  {modules[module].relative_to(ROOT)}:{line} -> {target}")
    sizes = sorted(((sum(1 for _ in p.open(encoding="utf-8")), m) for m, p in modules.items()), reverse=True)
    print("largest modules (lines):")
    for lines, module in sizes[:10]:
        print(f"  {lines:6d}  {modules[module].relative_to(ROOT)}")
    return 1 if args.strict and core_cycles else 0


if __name__ == "__main__":
    sys.exit(main())
