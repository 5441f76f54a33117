"""Glue between the result store and the HTML report: frame, run conditions, metric metadata."""

from __future__ import annotations

import dataclasses
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
    # `assumed_scale`: the scale given to published cells the paper prints without one (report
    # and `bench check`); `notes`: stated in the report's conditions.
    "srgankd2021": {
        "assumed_scale": 4,
        "hardware": "Intel Core i7-8700 3.20 GHz and a GeForce \"RTX 3600\" as printed (probably RTX "
                    "3060), PyTorch, Python 3.6 (paper text)",
        "notes": [
            "Scale: the paper does not state it; its cells are compared with the x4 runs (SRGAN's "
            "default, assumed).",
            "Training choices the paper does not state are the cited SRGAN paper's: content loss on "
            "VGG19 relu5_4 (MSE, features / 12.75), adversarial weight 1e-3, the SRGAN "
            "discriminator, PSNR (MSE) pre-training of every generator as an init cell; the no-KD "
            "Student is trained adversarially like the teacher; the +AL students' 'lightened' "
            "discriminator has 32 base filters (halved, like the generator).",
            "Tables 3 and 4 (DMOS per image, mean PI over the 10 rated images) come from the "
            "subjective study: `bench dmos export --matrix srgan-kd2021` picks 10 images with a "
            "fixed seed and records which; `bench dmos score --with-pi` renders both tables "
            "beside the paper's.",
        ],
    },
    "esrgankd2024": {
        "hardware": "1x RTX 3090, Ubuntu 22.04 (paper text)",
        # parameter counts the paper prints for its pruned teachers (millions), by ratio
        "pruned_params": {"0.3": 11.7},
        "average_sets": ["B100", "Set14", "KHU", "MIV", "VRroom", "Urban100"],
        "notes": [
            "Scale: neither table states it; the text's bicubic x4 LR images -> cells at x4.",
            "Teacher: ESRGAN (RRDBNet 23x64, growth 32) with BasicSR's VGG-128 D, trained with the GAN "
            "kit: PSNR pre-training (L1) as an init cell, then 1e-2 L1 + 1 VGG19 conv5_4 L1 + 5e-3 "
            "RaGAN, EMA 0.999 (BasicSR train_ESRGAN_x4.yml; the paper states none of it).",
            "Students: RRDBNet 23 blocks, growth 32, 16/32/48 features (6.54M/9.59M/12.97M; paper "
            "6.5M/9.6M/12.9M). L = 1e-2 L1 + 5e-3 RaGAN + 1 x sum over every RRDB of L1(1x1 "
            "regressor(student), teacher); the D starts from the teacher's and is fine-tuned. "
            "lambda_recon and the GAN weight are ESRGAN's, lambda_distill, the L1 distance and the "
            "positions (every RRDB) ours.",
            "Average columns: the paper's average over its six test sets (B100, Set14, KHU, MIV, "
            "VRroom, Urban100). KHU, MIV and VRroom are not public: they are evaluated only when "
            "supplied under --data-dir (<dir>/KHU/HR/*.png, ...).",
        ],
    },
    "mlsrgan2022": {
        "hardware": "Intel Core i7-8700 3.20 GHz, 16 GB RAM, RTX 3060, TensorFlow 2.6.0 (paper text)",
        "notes": [
            "Tables 1 and 2 compare peer A of each pair (rows Independent, ML, ML*): the paper does "
            "not say whether it reports one SRGAN of the pair or their mean. Peer B ('(peer_b)') "
            "and the mean of both peers ('(mean of outputs)') are in the summary tables.",
            "ML*: KL of the softened discriminator distributions at temperature T = 4, times T^2 "
            "(our choice; the paper gives neither). Generators PSNR-pretrained (MSE) as init "
            "cells, peer B from another seed (SRGAN paper; paper 003 does not say).",
        ],
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
                   data_dir: str | None = None, paper_notes: bool = True) -> dict[str, object]:
    """What the numbers were made under: the stored conditions of the runs, not of this process.
    `paper_notes=False` leaves out what belongs to one paper (its settings, pruned counts, averages):
    a page over several papers states those on each paper's own page."""
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
    extras = PAPER_EXTRAS.get(matrix.paper or "", {}) if paper_notes else {}
    notes += _profile_cfg_notes(specs) + list(extras.get("notes", ()))
    notes += (_pruned_notes(matrix, specs, store) if paper_notes else []) + _training_notes(specs, store)
    average_sets = extras.get("average_sets")
    if average_sets:
        from data_manifest.names import display_name

        sets = list(dict.fromkeys(display_name(d) for s in specs for d in s.eval_sets))
        notes.append(f"Average columns (measured): the mean over the sets evaluated, of {', '.join(sets)}; the "
                     f"paper's is over {', '.join(average_sets)}. A set not evaluated is marked not available "
                     "in each Average cell's note.")
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


def _pruned_notes(matrix: Matrix, specs: Sequence[RunSpec], store: ResultStore) -> list[str]:
    """Parameter counts of the pruned models (derive info) beside the paper's, where it prints one,
    and whether the pruned models were fine-tuned (`prune.finetune`)."""
    from .graph.cells import cell_key

    printed = PAPER_EXTRAS.get(matrix.paper or "", {}).get("pruned_params", {})
    notes: list[str] = []
    tuned: list[bool] = []
    for spec in specs:
        cell, finetuned = _pruned_cell(spec.cell)
        if cell is None or spec.model.output:
            continue
        tuned.append(finetuned)
        rec = store.record(cell_key(cell))
        if spec.id == "teacher" or rec is None or rec.status != "ok" \
                or spec.id in {n.split(":", 1)[0] for n in notes}:
            continue
        info, paper = rec.info, printed.get(str(cell.label))
        notes.append(f"{spec.id}: pruned ({info.get('criterion')}, ratio {info.get('ratio')}): "
                     f"{info.get('params_nonzero', 0) / 1e6:.2f}M non-zero of {info.get('params_total', 0) / 1e6:.2f}M "
                     f"parameters (source {info.get('params_source', 0) / 1e6:.2f}M); paper: "
                     + (f"{paper}M" if paper is not None else "not printed")
                     + ("; then fine-tuned as its source was trained, pruned weights held at zero" if finetuned else ""))
    if tuned:
        notes.append("Pruned teachers fine-tuned after pruning (prune.finetune: true)." if all(tuned) else
                     "Pruned teachers are not fine-tuned (prune.finetune: false, the default; the paper does "
                     "not say)." if not any(tuned) else "Some pruned teachers are fine-tuned (prune.finetune), "
                     "others not: see each row's note.")
    return notes


def _pruned_cell(cell) -> tuple[object | None, bool]:
    """The prune derive cell behind a row's model and whether it was fine-tuned afterwards."""
    if cell.kind == "derive" and cell.transform == "prune":
        return cell, False
    init = cell.input_refs().get("init") if cell.kind == "train" else None
    if init is not None and init.cell.kind == "derive" and init.cell.transform == "prune":
        return init.cell, True
    return None, False


def _training_notes(specs: Sequence[RunSpec], store: ResultStore) -> list[str]:
    """How the trained cells were computed: precision, processes per run, where batches came from."""
    counts: dict[str, int] = {}
    seen: set[str] = set()
    for spec in specs:
        key = spec.key()
        if spec.cell.kind != "train" or key in seen:
            continue
        seen.add(key)
        rec = store.record(key)
        if rec is None or rec.status != "ok":
            continue
        info = rec.info
        how = f"{info.get('precision', 'fp32')}"  # records older than the precision field trained in fp32
        if int(info.get("processes", 1)) > 1:
            how += f", {info['processes']} data-parallel processes"
        if info.get("data"):
            how += f"; batches: {info['data']}"
        counts[how] = counts.get(how, 0) + 1
    if not counts:
        return []
    parts = [f"{how} ({n} run{'s' if n > 1 else ''})" for how, n in sorted(counts.items())]
    return ["Training precision (autocast for bf16/fp16 with fp32 master weights; evaluation always fp32): "
            + "; ".join(parts) + "."]


def _profile_cfg_notes(specs: Sequence[RunSpec]) -> list[str]:
    """What a profile's `method_cfg` changed in the methods (e.g. a random VGG19 in smoke)."""
    notes = []
    for prof in {s.profile.name: s.profile for s in specs}.values():
        cfg = prof.method_cfg
        if cfg.get("vgg_weights") == "random":
            notes.append("perceptual loss: random VGG19, smoke only (the ImageNet VGG19 weights were not "
                         f"used: profile {prof.name} sets vgg_weights: random).")
        if cfg:
            notes.append(f"Profile {prof.name} sets these method config fields in every method that has "
                         f"them: {json.dumps(cfg, sort_keys=True)}.")
    return notes


def published_for(paper: str):
    """The paper's published frame; cells printed without a scale get the paper's
    `assumed_scale` (PAPER_EXTRAS), so they are compared with runs at that scale."""
    from .published_tables import published_frame

    frame = published_frame(paper)
    assumed = PAPER_EXTRAS.get(paper, {}).get("assumed_scale")
    if assumed is not None:
        frame["scale"] = frame["scale"].fillna(int(assumed)).astype("Int64")
    return frame


def with_output_means(frame):
    """Rows whose method has several evaluated outputs (row ids X, X:peer_b) get one more row,
    X:mean ("<label> (mean of outputs)"): per seed, test set and metric, the mean of the outputs'
    values (missing when any output's is)."""
    import pandas as pd

    if frame.empty:
        return frame
    ok = frame[frame["status"] == "ok"]
    bases = {m.split(":", 1)[0] for m in ok["method"] if ":" in str(m)}
    extra = []
    for base in sorted(bases):
        part = ok[(ok["method"] == base) | ok["method"].astype(str).str.startswith(base + ":")]
        n = part["method"].nunique()
        for _, group in part.groupby(["student", "scale", "seed", "profile", "dataset", "metric"], dropna=False):
            mains = group[group["method"] == base]
            if mains.empty:
                continue
            row = mains.iloc[0].to_dict()
            values = group["value"]
            complete = len(group) == n and values.notna().all()
            why = "; ".join(dict.fromkeys(str(x) for x in group["note"] if x)) or "an output has no value"
            row.update(method=f"{base}:mean", label=f"{row['label']} (mean of outputs)",
                       run_key=f"{row['run_key']}:mean", value=values.mean() if complete else None,
                       note="" if complete else why)
            extra.append(row)
    return pd.concat([frame, pd.DataFrame(extra, columns=frame.columns)], ignore_index=True) if extra else frame


def with_paper_averages(frame, published):
    """Where the paper prints `Average` cells (paper 004): one more test set, "Average", per row,
    scale, seed and metric: the mean of the sets measured for it, its note naming them and the
    paper's sets that are not (user-supplied sets not given, metrics not computed)."""
    import pandas as pd

    if frame.empty or published is None or len(published) == 0 or not (published["dataset"] == "Average").any():
        return frame
    paper_sets = sorted(set(published["dataset"].dropna()) - {"Average"})
    ok = frame[(frame["status"] == "ok") & frame["dataset"].notna()]
    extra = []
    for _, group in ok.groupby(["method", "student", "scale", "seed", "profile", "metric"], dropna=False):
        scored = group[group["value"].notna()]
        sets = list(dict.fromkeys(scored["dataset"]))
        missing = [d for d in paper_sets if d not in sets]
        row = group.iloc[0].to_dict()
        if scored.empty:  # evaluated, but the metric could not be computed on any set (weights offline)
            row.update(dataset="Average", value=float("nan"),
                       note=f"not computed on {', '.join(dict.fromkeys(group['dataset']))}")
        else:
            row.update(dataset="Average", value=scored["value"].mean(),
                       note=f"mean over {', '.join(sets)}" + (f"; not available: {', '.join(missing)}" if missing else ""))
        extra.append(row)
    return pd.concat([frame, pd.DataFrame(extra, columns=frame.columns)], ignore_index=True) if extra else frame


def with_teachers(specs: Sequence[RunSpec]) -> list[RunSpec]:
    """`specs` plus the teachers' own runs (row id "teacher"), each once, after them."""
    out = list(specs)
    keys = {s.key() for s in out}
    for spec in specs:
        if spec.teacher is not None:
            teacher = spec.teacher_spec()
            pruned, finetuned = _pruned_cell(teacher.cell)
            if pruned is not None:  # one row per pruning ratio
                teacher = dataclasses.replace(teacher, row_id=f"teacher-{pruned.label}",
                                              label=f"Teacher_{pruned.label} (pruned{', fine-tuned' if finetuned else ''})")
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
                 with_plots: bool = True, data_dir: str | None = None,
                 formats: Sequence[str] = ("html", "latex", "md", "csv")) -> Path:
    """Render the matrix's report. The teachers' own runs join the rows (row id "teacher");
    a matrix tied to a paper (`matrix.paper`) gets that paper's tables, in its layout, with its
    published numbers (`published` defaults to the paper's transcribed tables). `formats`: html
    (index.html), latex, md, csv (the tables as files beside it; benchmarks/report_parts.py)."""
    from reports import render_report

    profile = specs[0].profile.name if specs else "none"
    out_dir = out_dir or results_dir / "reports" / f"{matrix.name}-{profile}"
    all_specs = with_teachers(specs)
    frame = with_output_means(_in_eval_order(store.frame(all_specs, matrix=matrix.name), all_specs))
    layout = None
    if matrix.paper:
        if published is None:
            published = published_for(matrix.paper)
        layout = paper_layout(matrix, specs)
        frame = with_paper_averages(frame, published)
    from .report_parts import report_parts

    title = f"srkd-bench: {matrix.name} ({profile} profile)"
    parts = report_parts(matrix, all_specs, store, results_dir, out_dir, frame, metric_info(matrix.metrics),
                         formats, published, data_dir, title)
    if "html" not in formats:
        return out_dir
    from .fidelity import fidelity_conditions  # inferred settings, teacher sources, reconstructions, anchors

    conditions = run_conditions(matrix, all_specs, store, command, data_dir) | fidelity_conditions(matrix, specs, frame)
    return render_report(frame, out_dir, conditions,
                         metric_info(matrix.metrics), published=published, title=title,
                         with_plots=with_plots, paper=layout, curves=loss_curves(all_specs, results_dir),
                         **parts.render_kwargs())


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
