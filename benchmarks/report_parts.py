"""What a report adds beside its HTML tables: the gains over the no-KD baseline with their
intervals, the visual comparison figures, and the tables as LaTeX, Markdown and CSV files.

`report_parts` computes them from the store for one matrix and profile, writes the files into the
report folder and returns what `reports.render_report` shows (`gains`, `figures`, `downloads`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import BenchError
from .matrix import Matrix
from .spec import RunSpec
from .store import ResultStore

FORMATS = ("html", "latex", "md", "csv")


def parse_formats(text: str) -> tuple[str, ...]:
    """ "html,latex" -> ("html", "latex"); a one-line BenchError naming the valid choices."""
    given = [f.strip().lower() for f in str(text).split(",") if f.strip()]
    aliases = {"tex": "latex", "markdown": "md"}
    given = [aliases.get(f, f) for f in given]
    bad = [f for f in given if f not in FORMATS]
    if bad or not given:
        raise BenchError(f"--format: unknown value {(bad or [text])[0]!r}; valid choices: {', '.join(FORMATS)} "
                         "(comma-separated)")
    return tuple(dict.fromkeys(given))


@dataclasses.dataclass(frozen=True)
class ReportParts:
    gains: Any  # reports.gains.Gains
    figures: Any  # benchmarks.comparisons.Figures, or None
    downloads: tuple[tuple[str, str], ...]
    files: tuple[Path, ...]  # written here (tables, figures)

    def render_kwargs(self) -> dict[str, Any]:
        return {"gains": self.gains, "figures": self.figures, "downloads": self.downloads}


def report_parts(matrix: Matrix, specs: Sequence[RunSpec], store: ResultStore, results_dir: Path, out_dir: Path,
                 frame: pd.DataFrame, metric_info: Mapping[str, Mapping], formats: Sequence[str] = FORMATS,
                 published: pd.DataFrame | None = None, data_dir: str | None = None,
                 title: str = "") -> ReportParts:
    """`specs` are the report's rows with the teachers' (reporting.with_teachers); `frame` the
    store's long frame of them, as the HTML tables use it."""
    from reports.gains import gains_frame
    from reports.paper_tables import paper_tables
    from reports.table_files import TABLE_FORMATS, write_tables

    from .comparisons import comparison_figures

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    images = store.image_frame(specs)
    gains = gains_frame(frame, images, metric_info)
    figures = None
    files: list[Path] = []
    if "html" in formats or "latex" in formats:
        figures = comparison_figures(matrix.figures, specs, store, results_dir, out_dir, images, matrix.metrics,
                                     metric_info, data_dir)
        files += [out_dir / f.png for f in figures.figures] + [out_dir / f.pdf for f in figures.figures]
    wanted = [f for f in formats if f in TABLE_FORMATS]
    downloads: list[tuple[str, str]] = []
    if wanted and not frame.empty:
        tables = paper_tables(frame, metric_info, published, paper=matrix.paper, metrics=matrix.metrics)
        written = write_tables(tables, out_dir, wanted, title or f"{matrix.name} results")
        files += written
        downloads = [(p.name if p.parent == out_dir else f"{p.parent.name}/{p.name}",
                      p.relative_to(out_dir).as_posix()) for p in written
                     if p.parent == out_dir]
    if figures is not None and figures.figures:
        downloads += [(f"{f.dataset} {f.image} figure (PDF)", f.pdf) for f in figures.figures]
    return ReportParts(gains, figures, tuple(downloads), tuple(files))
