"""DMOS study inputs from finished runs: each row's saved SR folder and the saved HR references."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..errors import BenchError
from ..matrix import load_matrix
from ..graph.cells import cell_key
from ..runner import HR_DIR, RunContext
from ..store import ResultStore


def study_inputs(matrix_name: str, profile: str | None, results_dir: Path, dataset: str | Sequence[str],
                 scale: int, rows: Sequence[str] = ()) -> tuple[dict[str, Any], Any]:
    """Map each finished run's label (seed 0) to its SR folder for `dataset` at `scale`, plus the HR folder.

    Several datasets (a list, or "all": the matrix's test sets at the profile) give, per label and
    for HR, a mapping {test set: folder} (see `export_study`); only rows with outputs for every
    set are kept. `rows`: only these row ids (e.g. the four methods of the paper's Table 3).
    """
    from data_manifest.names import display_name

    matrix = load_matrix(matrix_name)
    specs = [s for s in matrix.expand(profile) if s.scale == scale and s.seed == 0 and (not rows or s.id in rows)]
    if dataset == "all":
        dataset = list(dict.fromkeys(ds for s in specs for ds in s.eval_sets))
    names = [dataset] if isinstance(dataset, str) else list(dataset)
    shown = [display_name(d) for d in names]
    store = ResultStore(results_dir / "results.sqlite")
    ctx = RunContext(results_dir=results_dir)
    methods: dict[str, dict[str, Path]] = {}
    for spec in specs:
        folders = {ds: ctx.sr_dir(spec.model) / ds / f"x{scale}" for ds in shown}
        if spec.label not in methods and store.is_done(cell_key(spec.cell)) \
                and all(f.is_dir() for f in folders.values()):
            methods[spec.label] = folders
    hr = {ds: results_dir / HR_DIR / ds / f"x{scale}" for ds in shown}
    if not methods or not all(f.is_dir() for f in hr.values()):
        raise BenchError(f"no saved SR images of matrix {matrix.name!r} for {', '.join(shown)} x{scale} in "
                         f"{results_dir}; run `bench run --matrix {matrix_name} --save-images` first")
    if len(shown) == 1:
        return {label: f[shown[0]] for label, f in methods.items()}, hr[shown[0]]
    return methods, hr
