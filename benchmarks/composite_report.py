"""The report of a composite matrix: one page per member, and an index with a per-paper summary."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

from .composite import Composite
from .matrix import Matrix
from .spec import RunSpec
from .store import ResultStore


@dataclasses.dataclass(frozen=True)
class PaperSummary:
    """How one member's published numbers fared (counts of check verdicts)."""

    matrix: str
    paper: str
    link: str  # relative to the index page
    published: int  # published numbers the member's rows address
    reproduced: int  # within tolerance
    differ: int  # beyond tolerance
    not_computed: int  # not run, failed or metric unavailable
    comparable: bool
    note: str


def summarise(matrix: Matrix, specs: Sequence[RunSpec], store: ResultStore, link: str) -> PaperSummary:
    """Check the member against its published tables (paper profile only) and count verdicts."""
    from .check import check_published, expected_cells, resolve_tolerances
    from .reporting import published_for, with_teachers

    if not matrix.paper:
        return PaperSummary(matrix.name, "", link, 0, 0, 0, 0, False, "no published tables")
    frame = store.frame(with_teachers(specs), matrix=matrix.name)
    if frame.empty:
        return PaperSummary(matrix.name, matrix.paper, link, 0, 0, 0, 0, False, "no stored results")
    report = check_published(frame, published_for(matrix.paper), tolerances=resolve_tolerances(),
                             expected=expected_cells(specs))
    counts = report.counts()
    if not report.comparable:  # smoke: say how many numbers the paper has, compare none
        profile = specs[0].profile.name if specs else "?"
        published = int(published_for(matrix.paper)["value"].notna().sum())
        return PaperSummary(matrix.name, matrix.paper, link, published, 0, 0, 0, False,
                            f"not compared: {profile} profile")
    return PaperSummary(matrix.name, matrix.paper, link, sum(counts.values()), counts["pass"],
                        counts["regression"], counts["missing"], True, "")


def write_composite_report(comp: Composite, members: Sequence[tuple[Matrix, list[RunSpec]]], store: ResultStore,
                           results_dir: Path, command: str, out_dir: Path | None = None,
                           data_dir: str | None = None) -> Path:
    """Each member's report in <out>/<member>/, then <out>/index.html linking them."""
    from reports.composite import render_index

    from .reporting import run_conditions, with_teachers, write_report

    profile = comp.profile_name(members[0][1][0].profile.name if members and members[0][1] else None)
    out_dir = out_dir or results_dir / "reports" / f"{comp.name}-{profile}"
    summaries = []
    all_specs: list[RunSpec] = []
    for matrix, specs in members:
        write_report(matrix, specs, store, results_dir, command=command, out_dir=out_dir / matrix.name,
                     data_dir=data_dir)
        summaries.append(summarise(matrix, specs, store, f"{matrix.name}/index.html"))
        all_specs += with_teachers(specs)
    conditions = run_conditions(members[0][0], all_specs, store, command, data_dir, paper_notes=False)
    conditions["notes"] = list(conditions["notes"]) + ["Each paper's own settings, pruned-model counts and "
                                                       "averages: on its page (linked above)."]
    conditions["matrix"] = f"{comp.name} ({comp.source}): " + ", ".join(m.name for m, _ in members)
    return render_index(out_dir, comp.name, comp.description, profile, summaries, conditions)
