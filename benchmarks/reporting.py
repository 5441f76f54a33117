"""Glue between the result store and the HTML report: frame, run conditions, metric metadata."""

from __future__ import annotations

import datetime as dt
import inspect
import json
from pathlib import Path
from typing import Any, Sequence

from .conditions import describe
from .errors import BenchError
from .matrix import Matrix
from .metrics import get_metric
from .spec import ArchSpec, RunSpec
from .store import ResultStore

#: What a paper shows besides its transcribed tables: figures drawn from sweeps of matrix rows
#: (no published numbers), and the hardware its training hours were measured on (as printed).
#: Keyed by paper id; the figure's `after` places it in the paper's order.
PAPER_EXTRAS: dict[str, dict[str, Any]] = {
    "clsd2023": {
        "figures": [
            {"id": "fig3", "after": "table5", "prefix": "ph-depth-", "metric": "psnr",
             "dataset": "Set14", "scale": 2, "xlabel": "ResBlocks per projection head",
             "what": "PSNR vs ResBlocks per head, Set14 ×2",
             "caption": "Relationship between performance and the number of Resblocks in the PH "
                        "(Set14, Scale 2)"},
        ],
        "hardware": "an Intel CPU and two NVIDIA RTX Titan GPUs, PyTorch 1.9.0 (paper text on "
                    "Table 6)",
    },
}

# architecture options -> the configuration columns of the papers' parameter tables
_CONFIG_OPTIONS = {"resblocks": ("num_blocks", "num_block"), "channels": ("num_feat",),
                   "filters": ("num_feat",)}


def metric_info(names: Sequence[str]) -> dict[str, dict[str, object]]:
    """Direction and display label of each metric, as the metric itself declares them."""
    info = {}
    for name in names:
        metric = get_metric(name)
        info[name] = {"lower_better": metric.lower_better, "label": metric.label}
    return info


def run_conditions(matrix: Matrix, specs: Sequence[RunSpec], store: ResultStore, command: str,
                   data_dir: str | None = None) -> dict[str, object]:
    """What the numbers were made under: the stored conditions of the runs, not of this process."""
    stored = [json.loads(c) for c in store.conditions([s.key() for s in specs])]
    now = describe()
    hardware = sorted({c.get("hardware", "?") for c in stored}) or [now["hardware"]]
    revisions = sorted({c.get("git_revision", "?") for c in stored}) or [now["git_revision"]]
    profiles = sorted({s.profile.name for s in specs})
    notes = []
    if any(p != "paper" for p in profiles):
        notes.append(f"Profile {', '.join(profiles)}: short training on small data. These numbers are NOT "
                     "comparable to published ones.")
    if len(revisions) > 1:
        notes.append("Runs were produced by more than one git revision: " + ", ".join(revisions))
    return {
        "matrix": f"{matrix.name} ({matrix.source})",
        "profile": ", ".join(profiles),
        "hardware": "; ".join(hardware),
        "versions": (stored[0] if stored else now).get("versions", {}),
        "git_revision": ", ".join(revisions),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "data_dir": data_dir or "(embedded / default)",
        "notes": notes,
    }


def with_teachers(specs: Sequence[RunSpec]) -> list[RunSpec]:
    """`specs` plus the teachers' own runs (row id "teacher"), each once, after them."""
    out = list(specs)
    keys = {s.key() for s in out}
    for spec in specs:
        if spec.teacher is not None:
            teacher = spec.teacher_spec()
            if teacher.key() not in keys:
                keys.add(teacher.key())
                out.append(teacher)
    return out


def _arch_config(arch: ArchSpec) -> dict[str, float]:
    """resblocks / channels / filters of an architecture: its options over the factory's defaults."""
    from .archs import ARCHS

    options: dict[str, Any] = {}
    try:
        params = inspect.signature(ARCHS.get(arch.arch)).parameters
        options = {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}
    except (BenchError, TypeError, ValueError):  # unknown arch (plugin not loaded): options only
        options = {}
    options.update(arch.kwargs)
    out = {}
    for column, names in _CONFIG_OPTIONS.items():
        for name in names:
            if isinstance(options.get(name), (int, float)) and not isinstance(options.get(name), bool):
                out[column] = options[name]
                break
    return out


def row_configs(specs: Sequence[RunSpec]) -> dict[str, dict[str, float]]:
    """Row id -> architecture configuration of its runs (left out where a row's runs differ)."""
    configs: dict[str, dict[str, float]] = {}
    clashes: set[str] = set()
    for spec in with_teachers(specs):
        if spec.is_reference and spec.id != "teacher":
            continue
        config = _arch_config(spec.student)
        if spec.id in configs and configs[spec.id] != config:
            clashes.add(spec.id)
        configs.setdefault(spec.id, config)
    return {k: v for k, v in configs.items() if k not in clashes}


def paper_layout(matrix: Matrix, specs: Sequence[RunSpec]):
    """The paper's tables (in its order), extra figures and stated hardware, for the report."""
    from reports.paper import PaperLayout, SweepFigure

    from .published_tables import load_paper

    extras = PAPER_EXTRAS.get(matrix.paper or "", {})
    scales = list(dict.fromkeys(s.scale for s in specs))
    first = next((s for s in matrix.scales if s in scales), scales[0] if scales else None)
    return PaperLayout.from_published(
        load_paper(matrix.paper), figures=tuple(SweepFigure(**f) for f in extras.get("figures", ())),
        hardware=extras.get("hardware", ""), cost_scale=first, configs=row_configs(specs))


def _in_eval_order(frame, specs: Sequence[RunSpec]):
    """Rows sorted (stably) by the matrix's order of test sets, so table columns follow it."""
    from data_manifest.names import display_name

    order: dict[str, int] = {}
    for spec in specs:
        for name in spec.eval_sets:
            try:
                shown = display_name(name)
            except BenchError:  # not in the manifest: keep the stored name
                shown = name
            order.setdefault(shown, len(order))
    if frame.empty:
        return frame
    rank = frame["dataset"].map(lambda d: order.get(d, len(order)))
    return frame.assign(_rank=rank).sort_values("_rank", kind="stable").drop(columns="_rank") \
        .reset_index(drop=True)


def write_report(matrix: Matrix, specs: Sequence[RunSpec], store: ResultStore, results_dir: Path,
                 command: str, out_dir: Path | None = None, published=None,
                 with_plots: bool = True, data_dir: str | None = None) -> Path:
    """Render the matrix's report. The teachers' own runs join the rows (row id "teacher");
    a matrix tied to a paper (`matrix.paper`) gets that paper's tables, in its layout, with its
    published numbers (`published` defaults to the paper's transcribed tables)."""
    from reports import render_report

    profile = specs[0].profile.name if specs else "none"
    out_dir = out_dir or results_dir / "reports" / f"{matrix.name}-{profile}"
    all_specs = with_teachers(specs)
    frame = _in_eval_order(store.frame(all_specs, matrix=matrix.name), all_specs)
    layout = None
    if matrix.paper:
        from .published_tables import published_frame

        if published is None:
            published = published_frame(matrix.paper)
        layout = paper_layout(matrix, specs)
    return render_report(frame, out_dir, run_conditions(matrix, all_specs, store, command, data_dir),
                         metric_info(matrix.metrics), published=published,
                         title=f"srkd-bench: {matrix.name} ({profile} profile)",
                         with_plots=with_plots, paper=layout, curves=loss_curves(all_specs, results_dir))


def loss_curves(specs: Sequence[RunSpec], results_dir: Path) -> dict[str, Any]:
    """Logged loss curves of the trained rows at the first scale, seed 0 (label -> long frame)."""
    from .graph.cells import cell_key
    from .loss_log import read_loss_csv

    trained = [s for s in specs if s.cell.kind == "train" and s.seed == 0 and not s.model.output]
    if not trained:
        return {}
    first = trained[0].scale
    curves = {}
    for spec in trained:
        if spec.scale == first:
            curves.setdefault(f"{spec.label} x{first}", read_loss_csv(results_dir / "runs" / cell_key(spec.cell)))
    return curves
