"""What a report states about how faithful its runs are to the papers: the conditions rows.

* every setting the paper did not state, per profile, with its value and where it comes from
  (paper / cited code / our choice), read from the matrix YAML's annotations
  (benchmarks/annotations.py) -- the YAML is the one source of truth;
* where each teacher came from: an official checkpoint (which file, its hash check) or trained
  from scratch (and, when a checkpoint was configured, why it was not used);
* the rows whose method is a reconstruction (a method class with `reconstructed`, e.g. LSFD);
* the anchors: the teacher's (and EDSR-baseline student's) own scores beside the published
  numbers of the architecture (EDSR paper, FAKD README), when the matrix's own paper does not
  already print them.

`fidelity_conditions(...)` returns {"fidelity": {...}} for the report's conditions; the
template renders it (reports/templates/fidelity.html.j2).
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from .annotations import for_profile
from .spec import ArchSpec, RunSpec

#: preset name -> (published paper, method id) whose numbers are the architecture's own anchor.
ANCHORS = {"edsr-teacher": ("edsr2017", "edsr"), "edsr-student": ("edsr2017", "edsr-baseline"),
           "rcan-teacher": ("fakd2020", "teacher"), "rcan-student": ("fakd2020", "baseline")}
_RANGE_OPTIONS = ("rgb_range", "rgb_mean")


def _preset_of(arch: ArchSpec) -> str | None:
    from .archs.presets import PRESETS

    options = {k: v for k, v in arch.kwargs.items() if k not in _RANGE_OPTIONS}
    for name, preset in PRESETS.items():
        if preset.arch == arch.arch and dict(preset.kwargs) == options:
            return name
    return None


def _overridden(path: tuple[str, ...], data) -> bool:
    """A matrix-level value the profile replaces (smoke's train set, shrunken arch options)."""
    if len(path) == 1:
        return bool(getattr(data, path[0], None))  # train_set, eval_sets, scales
    if len(path) == 3 and path[0] in ("students", "teachers"):
        return path[2] in json.loads(data.arch_options_json).get(path[1], {})
    return False


def inferred_settings(matrix, profiles: Sequence[str]) -> list[dict[str, str]]:
    """One row per annotation that applies to each profile (profile-specific ones first); a
    matrix-level value the profile overrides is left out of that profile's rows."""
    from .matrix import ProfileData

    rows = []
    for profile in profiles:
        data = dict(matrix.profile_data).get(profile, ProfileData())
        for a in sorted(for_profile(matrix.annotations, profile), key=lambda a: a.profile is None):
            if a.profile is None and _overridden(a.path, data):
                continue
            rows.append({"profile": profile, "setting": a.setting, "value": a.value,
                         "source": a.source_label, "note": a.note})
    return rows


def teacher_lines(matrix, specs: Sequence[RunSpec]) -> list[str]:
    """Where each teacher of the report came from, from its cell (what ran), plus the reason a
    configured checkpoint was not used."""
    from .archs.pretrained import verify
    from .reporting import with_teachers

    missing = {(s.label, s.scale): s.missing for p in dict.fromkeys(x.profile.name for x in specs)
               for s in matrix.teacher_sources(p) if not s.loaded}
    lines = []
    for spec in with_teachers(specs):
        if spec.id != "teacher":
            continue
        cell = spec.cell
        base = cell.arch.label.split(" (")[0] if hasattr(cell, "arch") else spec.label
        if cell.kind == "load" and cell.arch.weights:
            try:
                check = verify(cell.arch.weights)
            except OSError as exc:
                check = f"not readable here: {exc.strerror}"
            lines.append(f"{spec.label} x{spec.scale}: loaded from {cell.arch.weights} ({check})")
        elif cell.kind == "train":
            why = missing.get((base, spec.scale))
            init = cell.input("init")
            start = f"starting from {init.cell.label or init.cell.kind}" if init else "from scratch"
            lines.append(f"{spec.label} x{spec.scale}: trained {start} with {cell.method} under profile "
                         f"{cell.profile.name}" + (f" ({why})" if why else ""))
        else:
            lines.append(f"{spec.label} x{spec.scale}: {cell.kind} cell")
    return list(dict.fromkeys(lines))


def reconstructed_rows(specs: Sequence[RunSpec]) -> list[dict[str, str]]:
    """Rows whose method is a reconstruction, with the method's reason."""
    from methods import METHODS

    out = {}
    for spec in specs:
        if spec.method in METHODS:
            reason = getattr(METHODS.get(spec.method), "reconstructed", "")
            if reason:
                out.setdefault(spec.label, {"row": spec.label, "method": spec.method, "reason": reason})
    return list(out.values())


def anchor_rows(matrix, specs: Sequence[RunSpec], frame) -> list[dict[str, Any]]:
    """Measured teacher / EDSR-baseline scores beside the architecture's published ones."""
    from .published_tables import list_papers, published_frame
    from .reporting import with_teachers

    rows = []
    published = {}
    seen = set()
    candidates = [s for s in with_teachers(specs) if s.id == "teacher"] + \
        [s for s in specs if s.method == "baseline" and not s.model.output]
    for spec in candidates:
        if spec.key() in seen:  # an ablation row sharing the baseline's run
            continue
        seen.add(spec.key())
        preset = _preset_of(spec.student)
        if preset not in ANCHORS:
            continue
        paper, method = ANCHORS[preset]
        if paper == matrix.paper or paper not in list_papers():  # the paper's own tables show it
            continue
        if paper not in published:
            published[paper] = published_frame(paper)
        pub = published[paper]
        pub = pub[(pub["method"] == method) & (pub["scale"] == spec.scale)]
        runs = frame[(frame["run_key"] == spec.key()) & (frame["status"] == "ok")] if not frame.empty else frame
        for cell in pub.itertuples():
            got = runs[(runs["dataset"] == cell.dataset) & (runs["metric"] == cell.metric)]["value"].dropna() \
                if not runs.empty else []
            measured = float(got.mean()) if len(got) else None
            rows.append({"row": spec.label, "profile": spec.profile.name, "scale": spec.scale,
                         "dataset": cell.dataset, "metric": cell.metric, "paper": f"{paper} ({cell.row})",
                         "published": cell.text, "measured": None if measured is None else round(measured, 4),
                         "delta": None if measured is None else round(measured - cell.value, cell.decimals + 1)})
    return rows


def fidelity_conditions(matrix, specs: Sequence[RunSpec], frame) -> dict[str, Any]:
    """{"fidelity": {inferred, teachers, reconstructed, anchors}} for the report's conditions."""
    profiles = list(dict.fromkeys(s.profile.name for s in specs))
    return {"fidelity": {"inferred": inferred_settings(matrix, profiles),
                         "teachers": teacher_lines(matrix, specs),
                         "reconstructed": reconstructed_rows(specs),
                         "anchors": anchor_rows(matrix, specs, frame)}}
