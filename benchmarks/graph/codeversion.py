"""The version of the code a cell actually executes: its root modules and what they import.

A cell names root modules (its method's module, its arch's module, the trainer, the metric);
the version hashes each module of the project reachable from them by static `import`
statements, with docstrings and comments stripped (an edit to prose does not re-key finished
work). Registries discover their members dynamically (pkgutil), so adding a method, metric or
arch file changes no existing cell's version; editing `methods/fakd.py` changes only the
cells that import it.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import sys
from pathlib import Path
from typing import Iterable, Iterator

PROJECT_PACKAGES = ("benchmarks", "methods", "data_manifest", "reports")
_ROOT = Path(__file__).resolve().parents[2]
#: Bump to re-key every cell on purpose (a change in how keys are computed).
KEY_SCHEMA = 1


class CodeIndex:
    """Source files of the project under `root`, their import graph and normalised hashes."""

    def __init__(self, root: Path = _ROOT):
        self.root = Path(root)

    def path(self, module: str) -> Path | None:
        """The file of a project module (package -> its __init__.py) or of a loaded plug-in file;
        None for anything else (the standard library and installed packages)."""
        if module.split(".")[0] not in PROJECT_PACKAGES:
            return _plugin_file(module)
        base = self.root.joinpath(*module.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    @functools.lru_cache(maxsize=None)
    def _parsed(self, module: str) -> tuple[str, tuple[str, ...]]:
        """(hash of the normalised source, project modules it imports) of one module."""
        path = self.path(module)
        if path is None:
            return "", ()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        imports: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imports.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _resolve_from(module, is_package, node.module, node.level)
                imports.append(base)
                imports.extend(f"{base}.{alias.name}" for alias in node.names)
        _strip_docstrings(tree)
        digest = hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()[:16]
        found = tuple(sorted({m for m in imports if self.path(m) is not None}))
        return digest, found

    def closure(self, roots: Iterable[str]) -> list[str]:
        """Every project module reachable from `roots` (with the packages that contain them)."""
        seen: set[str] = set()
        todo = [m for m in roots if self.path(m) is not None]
        while todo:
            module = todo.pop()
            if module in seen:
                continue
            seen.add(module)
            parts = module.split(".")
            parents = [".".join(parts[:i]) for i in range(1, len(parts))]
            todo.extend(p for p in parents + list(self._parsed(module)[1]) if p not in seen)
        return sorted(seen)

    def versions(self, roots: Iterable[str]) -> dict[str, str]:
        """{module: hash} over the closure of `roots`: what a cell stores to explain staleness."""
        return {m: self._parsed(m)[0] for m in self.closure(roots)}

    def current(self, module: str) -> str | None:
        """Today's hash of one module (None: the module no longer exists)."""
        return self._parsed(module)[0] if self.path(module) is not None else None


def _plugin_file(module: str) -> Path | None:
    """A user's plug-in module (loaded by `--plugin`: any loaded .py outside the interpreter's
    library folders), so editing it re-keys its cells."""
    file = getattr(sys.modules.get(module), "__file__", None)
    if not file or not file.endswith(".py"):
        return None
    path = Path(file).resolve()
    if any(path.is_relative_to(lib) for lib in _library_dirs()):
        return None
    return path


@functools.lru_cache(maxsize=1)
def _library_dirs() -> tuple[Path, ...]:
    import sysconfig

    names = ("stdlib", "platstdlib", "purelib", "platlib")
    return tuple({Path(sysconfig.get_paths()[n]).resolve() for n in names if sysconfig.get_paths().get(n)})


def _resolve_from(module: str, is_package: bool, name: str | None, level: int) -> str:
    if level == 0:
        return name or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _strip_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]


_INDEX: list[CodeIndex] = []


def default_index() -> CodeIndex:
    """The index of this checkout (or the one `use_index` put in place)."""
    if not _INDEX:
        _INDEX.append(CodeIndex())
    return _INDEX[-1]


@contextlib.contextmanager
def use_index(index: CodeIndex) -> Iterator[CodeIndex]:
    """Compute keys against another source tree (tests: an edited copy of the project)."""
    from .cells import clear_key_caches

    _INDEX.append(index)
    clear_key_caches()
    try:
        yield index
    finally:
        _INDEX.remove(index)
        clear_key_caches()


def fingerprint(versions: dict[str, str]) -> str:
    """One short hash of a {module: hash} map."""
    text = ";".join(f"{m}={h}" for m, h in sorted(versions.items())) + f";schema={KEY_SCHEMA}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def changed_modules(versions: dict[str, str], index: CodeIndex | None = None) -> dict[str, str]:
    """How a stored {module: hash} map differs from today's code: {module: "changed" | "removed" |
    "unchecked"} for each module that is not as recorded. "unchecked": a user's plug-in module
    that is not loaded in this process (its file cannot be found without `--plugin`)."""
    index = index or default_index()
    out: dict[str, str] = {}
    for module, recorded in sorted(versions.items()):
        now = index.current(module)
        if now is None:
            out[module] = "removed" if module.split(".")[0] in PROJECT_PACKAGES else "unchecked"
        elif now != recorded:
            out[module] = "changed"
    return out
