"""Write a report's tables as files: LaTeX (tables.tex + latex/<metric>.tex), Markdown (tables.md)
and CSV (tables.csv, one row per cell, for spreadsheets). See reports.paper_tables for what the
tables hold."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from .latex import document_tex, table_tex
from .markdown import document_md
from .paper_tables import PaperTable

FORMATS = ("html", "latex", "md", "csv")
TABLE_FORMATS = ("latex", "md", "csv")
LATEX_DOC, LATEX_DIR, MD_FILE, CSV_FILE = "tables.tex", "latex", "tables.md", "tables.csv"
CSV_COLUMNS = ["table", "metric", "direction", "profile", "scale", "dataset", "label", "method", "reference",
               "mean", "std", "n_seeds", "text", "mark", "published", "published_value"]


def tables_csv(tables: Sequence[PaperTable]) -> pd.DataFrame:
    """One row per (table, scale, row, test set): the number, its mark and the published value."""
    rows = []
    for table in tables:
        for block in table.blocks:
            for row in block.rows:
                pubs = row.published or (None,) * len(row.cells)
                for dataset, cell, pub in zip(table.columns, row.cells, pubs):
                    rows.append(dict(table=table.id, metric=table.metric, direction=table.direction,
                                     profile=table.profile, scale=block.scale, dataset=dataset, label=row.label,
                                     method=row.method, reference=row.reference, mean=cell.value, std=cell.std,
                                     n_seeds=cell.n, text=cell.text, mark=cell.mark,
                                     published=pub.text if pub is not None else "",
                                     published_value=pub.value if pub is not None else None))
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def write_tables(tables: Sequence[PaperTable], out_dir: Path, formats: Iterable[str], title: str) -> list[Path]:
    """Write the requested table formats into `out_dir`; returns the files written."""
    out_dir = Path(out_dir)
    formats = set(formats)
    written: list[Path] = []
    if "latex" in formats:
        folder = out_dir / LATEX_DIR
        folder.mkdir(parents=True, exist_ok=True)
        fragments = []
        for table in tables:
            path = folder / f"{table.id}.tex"
            path.write_text(table_tex(table), encoding="utf-8")
            fragments.append(f"{LATEX_DIR}/{table.id}")
            written.append(path)
        doc = out_dir / LATEX_DOC
        doc.write_text(document_tex(fragments, title), encoding="utf-8")
        written.insert(0, doc)
    if "md" in formats:
        path = out_dir / MD_FILE
        path.write_text(document_md(tables, title), encoding="utf-8")
        written.append(path)
    if "csv" in formats:
        path = out_dir / CSV_FILE
        tables_csv(tables).to_csv(path, index=False)
        written.append(path)
    return written
