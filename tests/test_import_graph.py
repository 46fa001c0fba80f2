"""The package's import graph, read from its source: no circle, and no arrow from the
foundations (config, checks, audio) up into the models, training, export or the
command line.

Every ``import`` counts, those inside functions too: a lazy import that closes a
circle still ties two rooms together (the one that gave way last was the trainer and
its callbacks, each importing the other inside a function).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "keras_soundgan"

# Modules that sit below everything else, and the rooms above that they must not reach.
FOUNDATIONS = ("keras_soundgan.config", "keras_soundgan.checks", "keras_soundgan.audio")
ABOVE = ("keras_soundgan.models", "keras_soundgan.runs", "keras_soundgan.callbacks",
         "keras_soundgan.export", "keras_soundgan.cli", "keras_soundgan.metrics",
         "keras_soundgan.pretrained", "keras_soundgan.judges")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def import_graph() -> dict[str, set[str]]:
    """``{module: modules of the package it imports}``, lazy imports included. An
    import of a package's name (``from keras_soundgan import SoundGAN``) counts as an
    arrow to the package itself."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}

    def resolve(name):
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name

    graph = {name: set() for name in paths}
    for name, path in paths.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = _package_of(name, path)
                    for _ in range(node.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{base}" if base else package
                targets = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                if target.startswith("keras_soundgan"):
                    found = resolve(target)
                    if found and found != name:
                        graph[name].add(found)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _inside(name: str, rooms) -> bool:
    return any(name == room or name.startswith(room + ".") for room in rooms)


def test_the_package_imports_without_a_circle():
    graph = import_graph()
    assert len(graph) > 40 and graph["keras_soundgan.runs"]  # the walk found the package
    found = circles(graph)
    assert not found, "import circles: " + "; ".join(
        " <-> ".join(c) + " (" + ", ".join(f"{a} -> {b}" for a in c for b in sorted(graph[a])
                                          if b in c) + ")" for c in found)


def test_the_foundations_import_nothing_above_them():
    graph = import_graph()
    upward = sorted(f"{a} -> {b}" for a, targets in graph.items() if _inside(a, FOUNDATIONS)
                    for b in targets if _inside(b, ABOVE))
    assert not upward, upward


def test_the_walk_sees_circles_and_upward_arrows():
    """The checks above can fail: a circle and an upward arrow made up here are found."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []
    assert _inside("keras_soundgan.models.augment", ABOVE)
    assert not _inside("keras_soundgan.modelsx", ABOVE)
    assert _inside("keras_soundgan.audio.io", FOUNDATIONS)
