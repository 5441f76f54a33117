"""DMOS study inputs from finished runs: each row's saved SR folder and the saved HR references."""

from __future__ import annotations

from pathlib import Path

from ..errors import BenchError
from ..matrix import load_matrix
from ..graph.cells import cell_key
from ..runner import HR_DIR, RunContext
from ..store import ResultStore


def study_inputs(matrix_name: str, profile: str | None, results_dir: Path, dataset: str,
                 scale: int) -> tuple[dict[str, Path], Path]:
    """Map each finished run's label (seed 0) to its SR folder for `dataset` at `scale`, plus the HR folder."""
    from data_manifest.names import display_name

    shown = display_name(dataset)
    matrix = load_matrix(matrix_name)
    store = ResultStore(results_dir / "results.sqlite")
    ctx = RunContext(results_dir=results_dir)
    methods: dict[str, Path] = {}
    for spec in matrix.expand(profile):
        if spec.scale != scale or spec.seed != 0 or spec.label in methods:
            continue
        folder = ctx.sr_dir(spec.model) / shown / f"x{scale}"
        if store.is_done(cell_key(spec.cell)) and folder.is_dir():
            methods[spec.label] = folder
    hr = results_dir / HR_DIR / shown / f"x{scale}"
    if not methods or not hr.is_dir():
        raise BenchError(f"no saved SR images of matrix {matrix.name!r} for {shown} x{scale} in {results_dir}; "
                         f"run `bench run --matrix {matrix_name} --save-images` first")
    return methods, hr
