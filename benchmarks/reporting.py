"""Glue between the result store and the HTML report: frame, run conditions, metric metadata."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Sequence

from .conditions import describe
from .matrix import Matrix
from .metrics import get_metric
from .spec import RunSpec
from .store import ResultStore


def metric_info(names: Sequence[str]) -> dict[str, dict[str, object]]:
    labels = {"psnr": "PSNR (dB)", "ssim": "SSIM"}
    info = {}
    for name in names:
        metric = get_metric(name)
        info[name] = {"lower_better": metric.lower_better, "label": labels.get(name, name.upper())}
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


def write_report(matrix: Matrix, specs: Sequence[RunSpec], store: ResultStore, results_dir: Path,
                 command: str, out_dir: Path | None = None, published=None) -> Path:
    from reports import render_report

    profile = specs[0].profile.name if specs else "none"
    out_dir = out_dir or results_dir / "reports" / f"{matrix.name}-{profile}"
    frame = store.frame(specs, matrix=matrix.name)
    return render_report(frame, out_dir, run_conditions(matrix, specs, store, command),
                         metric_info(matrix.metrics), published=published,
                         title=f"srkd-bench: {matrix.name} ({profile} profile)")
