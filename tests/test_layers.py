"""The import graph of src/moodnet: layers, no cycles, one definition of each shared name.

Every ``import`` counts, at module level, inside functions (lazy imports) and under
``TYPE_CHECKING``: a lazy import is still a dependency. Importing ``a.b.c`` also runs the
``__init__`` of ``a.b``, so a module depends on its parent packages too (not on the root
``moodnet`` package, which modules must not import: ``__version__`` is in ``moodnet.version``).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

import moodnet.core

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "moodnet"

LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(names.split())
    for names in (
        "version errors",
        "config core io_utils ray_support",
        "track",
        "audio lyrics",
        "labels",
        "data",
        "models",
        "evaluation",
        "training",
        "experiments",
        "predict",
        "tagging",
        "serve",
        "cli",
        "__main__",
    )
)
"""Stages bottom-up (docs/DESIGN.md): a stage imports only stages of lower layers."""

INFERENCE = ("predict", "serve")
TRAINING = ("training", "experiments")

SHARED_NAMES = (
    "VA_RANGE",
    "QUADRANTS",
    "QUADRANT_SIGNS",
    "QUADRANT_WORDS",
    "MIREX_CLUSTERS",
    "AUDIO_EXTENSIONS",
    "DEFAULT_DEVICE",
    "__version__",
    "quadrant_of",
    "quadrant_ids",
    "softmax",
    "json_safe",
    "resolve_device",
)
"""Names defined (assigned or def'd) in exactly one module of the package."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def modules() -> dict[str, ast.Module]:
    return {
        _module_name(path): ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for path in sorted(ROOT.rglob("*.py"))
    }


def _imported(name: str, tree: ast.Module) -> Iterator[str]:
    """Module names ``name`` imports (anywhere in its source), within moodnet."""
    package = name if name in _packages() else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


@functools.cache
def _packages() -> frozenset[str]:
    return frozenset(_module_name(path) for path in ROOT.rglob("__init__.py"))


@functools.cache
def graph() -> dict[str, frozenset[str]]:
    """Module -> the moodnet modules it imports directly (and its parent packages)."""
    known = modules()
    edges: dict[str, frozenset[str]] = {}
    for name, tree in known.items():
        targets = {t for t in _imported(name, tree) if t in known and t != name}
        targets |= {p for t in set(targets) for p in _parents(t)}
        targets |= set(_parents(name))
        edges[name] = frozenset(targets - {name})
    return edges


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts))]


def stage(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in graph()[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_the_graph_is_read() -> None:
    assert "moodnet.models.checkpoint" in graph()["moodnet.predict.predictor"]
    assert "moodnet.models" in graph()["moodnet.models.checkpoint"]  # parent package
    assert "moodnet.training.loop" in graph()["moodnet.experiments.table"]  # a lazy import


def test_no_module_imports_the_root_package() -> None:
    offenders = sorted(name for name, targets in graph().items() if "moodnet" in targets)
    assert offenders == [], f"import from moodnet's modules (moodnet.version), not it: {offenders}"


@pytest.mark.parametrize("start", INFERENCE)
def test_inference_imports_nothing_from_training(start: str) -> None:
    entry = [name for name in graph() if stage(name) == start]
    for name in entry:
        bad = sorted(t for t in reachable(name) if stage(t) in TRAINING)
        assert bad == [], f"{name} reaches {bad}"


def _stage_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name, targets in graph().items():
        if stage(name):
            edges.setdefault(stage(name), set()).update(
                stage(t) for t in targets if stage(t) and stage(t) != stage(name)
            )
    return edges


def test_no_cycle_between_stages() -> None:
    edges = _stage_edges()
    for start in edges:
        seen, todo = set(), list(edges[start])
        while todo:
            current = todo.pop()
            assert current != start, f"stage {start} imports itself through {sorted(seen)}"
            if current not in seen:
                seen.add(current)
                todo.extend(edges.get(current, ()))


def test_stages_import_only_lower_layers() -> None:
    layer = {name: i for i, names in enumerate(LAYERS) for name in names}
    wrong = []
    for source, targets in _stage_edges().items():
        for target in targets:
            if source in layer and target in layer and layer[target] >= layer[source]:
                wrong.append(f"{source} -> {target}")
    assert wrong == [], f"imports against the layers of docs/DESIGN.md: {sorted(wrong)}"


def _definitions(tree: ast.Module) -> Iterator[str]:
    """Module-level names, and every function at any depth (a leading ``_`` dropped, so that a
    private ``_softmax`` counts as a second softmax)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            yield node.name.lstrip("_") or node.name
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            yield node.name
        elif isinstance(node, ast.Assign):
            yield from (t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            yield node.target.id


@pytest.mark.parametrize("shared", SHARED_NAMES)
def test_each_shared_name_is_defined_once(shared: str) -> None:
    where = sorted(name for name, tree in modules().items() if shared in set(_definitions(tree)))
    assert len(where) == 1, f"{shared} is defined in {where}"


def _literals(tree: ast.Module) -> Iterator[tuple[int, object]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            try:
                yield node.lineno, ast.literal_eval(node)
            except ValueError:
                continue


_LIKE_AUDIO_EXTENSIONS = {".mp3", ".wav", ".flac", ".m4a"}
"""A literal holding all of these is a list of audio files' endings (a decoder's own routing
set, such as the formats soundfile reads first, is not)."""


def test_no_second_copy_of_the_shared_values() -> None:
    """No literal quadrant list, MIREX cluster list or audio extension set outside core."""
    quadrants = set(moodnet.core.QUADRANTS)
    copies = []
    for name, tree in modules().items():
        if name == "moodnet.core":
            continue
        for line, value in _literals(tree):
            members = {v for v in value if isinstance(v, str)}  # type: ignore[attr-defined]
            if members == quadrants or members >= _LIKE_AUDIO_EXTENSIONS:
                copies.append(f"{name}:{line}")
        if "cluster{n}" in ast.unparse(tree):
            copies.append(f"{name}: MIREX cluster names")
    assert copies == [], f"import these from moodnet.core: {copies}"
