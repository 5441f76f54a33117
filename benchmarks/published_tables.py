"""Published result tables of the reference papers, transcribed into ``published/*.yaml``.

One YAML per paper (the file stem is the paper id)::

    paper: clsd2023
    title: "..."
    venue: "..."
    seed: 000_38035d392e4d1593.txt     # or, for a paper that is not one of the seeds:
    # source: "README figure result.png of github.com/..."   (where the numbers were read)
    notes: ["..."]
    tables:
      - id: table2
        caption: "..."
        rows: [Baseline, ...]          # row labels as printed, in printed order
        columns: [Set5, Set14, ...]    # column labels (flattened where the header has two levels)
        metric: psnr                   # default metric of the cells
        scale: 2                       # default scale, or null
        best: max                      # max | min | null: which direction the paper treats as better
        methods: {Baseline: baseline}  # every row label -> harness method id
        cells:
          - {row: Baseline, column: Set5, value: "37.919"}

A cell needs ``row``, ``column`` and ``value``; ``value`` is a quoted string exactly as
printed (so "37.980" keeps its trailing zero). Optional per-cell keys override the table
defaults: ``metric``, ``scale``, ``best``, ``dataset``. ``dataset`` may be omitted only when the
column label is itself a dataset name (Set5, Set14, B100, Urban100, General100, MIV, KHU,
VRroom, Average); otherwise it must be given (a name from that list, or null when the cell is
not tied to a test set). ``printed`` keeps the literal text where it is not a plain number
("40.7M", a decimal comma "25,905"); ``value`` is then the number it stands for.

Blank cells of the printed table ("-") are simply absent.

Every problem is reported as a :class:`BenchError` naming the file and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional, Union

import yaml

from .errors import BenchError

__all__ = [
    "DATASETS",
    "METRICS",
    "PublishedCell",
    "PublishedPaper",
    "PublishedTable",
    "default_directory",
    "list_papers",
    "load_paper",
    "published_frame",
]

PathLike = Union[str, Path]

#: Dataset names a cell may carry (``B100`` is also printed as BSD100).
DATASETS = ("Set5", "Set14", "B100", "Urban100", "General100", "MIV", "KHU", "VRroom", "Average")

#: Metrics a cell may carry.
METRICS = (
    "psnr",
    "ssim",
    "pi",
    "dmos",
    "fid",
    "lpips",
    "params_m",  # parameters, millions
    "train_hours",
    "resblocks",  # number of residual blocks (architecture tables)
    "channels",  # feature channels (architecture tables)
    "filters",  # generator filters (architecture tables)
)

BEST = ("max", "min", None)

FRAME_COLUMNS = [
    "paper",
    "table",
    "row",
    "column",
    "method",
    "dataset",
    "scale",
    "metric",
    "value",
    "text",
    "decimals",
]

_PAPER_KEYS = {"paper", "title", "venue", "seed", "source", "notes", "tables"}
_TABLE_KEYS = {"id", "caption", "rows", "columns", "metric", "scale", "best", "methods", "cells"}
_CELL_REQUIRED = {"row", "column", "value"}
_CELL_KEYS = _CELL_REQUIRED | {"metric", "scale", "best", "dataset", "printed"}

_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_METHOD_ID = re.compile(r"^[a-z0-9]+(?:[-.][a-z0-9]+)*$")
_TABLE_ID = re.compile(r"^(?:table|fig)\d+[a-z]?$")
_SEED = re.compile(r"^\d{3}_[0-9a-f]+\.txt$")


@dataclass(frozen=True)
class PublishedCell:
    """One printed number with everything resolved (table defaults applied)."""

    row: str
    column: str
    method: str
    value_text: str  # the YAML ``value`` string, a plain number as printed, e.g. "37.980"
    value: float
    decimals: int  # digits after the decimal point of ``value_text``
    metric: str
    scale: Optional[int]
    dataset: Optional[str]
    best: Optional[str]
    printed: Optional[str] = None  # the YAML ``printed`` literal, where it differs

    @property
    def text(self) -> str:
        """The cell as printed: ``printed`` where given ("40.7M", "25,905"), else ``value_text``."""
        return self.printed if self.printed is not None else self.value_text


@dataclass(frozen=True)
class PublishedTable:
    id: str
    caption: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    metric: str
    scale: Optional[int]
    best: Optional[str]
    methods: dict[str, str]
    cells: tuple[PublishedCell, ...]

    def cell(self, row: str, column: str) -> PublishedCell:
        """The cell at (row, column); KeyError if the printed table has a blank there."""
        for c in self.cells:
            if c.row == row and c.column == column:
                return c
        raise KeyError(f"{self.id}: no cell at row {row!r}, column {column!r}")

    def value(self, row: str, column: str) -> float:
        return self.cell(row, column).value


@dataclass(frozen=True)
class PublishedPaper:
    paper: str
    title: str
    venue: str
    seed: str  # the seed file it was transcribed from; "" for a paper that is not a seed
    notes: tuple[str, ...]
    tables: tuple[PublishedTable, ...]

    def table(self, table_id: str) -> PublishedTable:
        for t in self.tables:
            if t.id == table_id:
                return t
        raise BenchError(
            f"paper {self.paper!r} has no table {table_id!r}; "
            f"tables: {', '.join(t.id for t in self.tables)}"
        )


def default_directory() -> Path:
    """The folder holding the shipped YAMLs (package data of ``benchmarks``)."""
    return Path(__file__).resolve().parent / "published"


def _directory(directory: Optional[PathLike]) -> Path:
    d = default_directory() if directory is None else Path(directory)
    if not d.is_dir():
        raise BenchError(f"published tables directory {str(d)!r} does not exist")
    return d


def list_papers(directory: Optional[PathLike] = None) -> list[str]:
    """Paper ids (YAML file stems) in ``directory`` (default: the shipped tables), sorted."""
    return sorted(p.stem for p in _directory(directory).glob("*.yaml"))


def load_paper(paper_id: str, directory: Optional[PathLike] = None) -> PublishedPaper:
    """Load and validate ``<directory>/<paper_id>.yaml``."""
    d = _directory(directory)
    path = d / f"{paper_id}.yaml"
    if not path.is_file():
        raise BenchError(
            f"unknown published paper {paper_id!r}; valid choices: "
            f"{', '.join(list_papers(d)) or '(none)'}"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BenchError(f"{path.name}: not valid YAML: {exc}".replace("\n", " ")) from None
    return _parse_paper(data, path)


def published_frame(paper_id: Optional[str] = None, directory: Optional[PathLike] = None):
    """All cells (of one paper, or of every paper) as a long pandas DataFrame.

    Columns: paper, table, row, column, method, dataset, scale (nullable Int64), metric,
    value (float), text (the cell as printed: "37.980", or the literal "40.7M" / "25,905"
    where the print is not a plain number), decimals (int, digits after the point of the
    number as printed).
    """
    import pandas as pd

    ids = list_papers(directory) if paper_id is None else [paper_id]
    records = []
    for pid in ids:
        paper = load_paper(pid, directory)
        for table in paper.tables:
            for c in table.cells:
                records.append(
                    {
                        "paper": paper.paper,
                        "table": table.id,
                        "row": c.row,
                        "column": c.column,
                        "method": c.method,
                        "dataset": c.dataset,
                        "scale": c.scale,
                        "metric": c.metric,
                        "value": c.value,
                        "text": c.text,
                        "decimals": c.decimals,
                    }
                )
    frame = pd.DataFrame.from_records(records, columns=FRAME_COLUMNS)
    frame["scale"] = frame["scale"].astype("Int64")
    frame["value"] = frame["value"].astype(float)
    frame["decimals"] = frame["decimals"].astype(int)
    return frame


# --------------------------------------------------------------------------- validation


def _fail(path: Path, where: str, msg: str) -> BenchError:
    return BenchError(f"{path.name}: {where}: {msg}")


def _check_keys(path: Path, where: str, obj: Any, allowed: set, required: set) -> None:
    if not isinstance(obj, dict):
        raise _fail(path, where, f"expected a mapping, got {type(obj).__name__}")
    missing = sorted(required - set(obj))
    if missing:
        raise _fail(path, where, f"missing field(s) {', '.join(missing)}")
    unknown = sorted(str(k) for k in set(obj) - allowed)
    if unknown:
        raise _fail(
            path, where, f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def _str(path: Path, where: str, field: str, v: Any, allow_empty: bool = False) -> str:
    if not isinstance(v, str) or (not allow_empty and not v.strip()):
        raise _fail(path, where, f"field '{field}' must be a non-empty string, got {v!r}")
    return v


def _str_list(path: Path, where: str, field: str, v: Any) -> tuple[str, ...]:
    if not isinstance(v, list) or not v:
        raise _fail(path, where, f"field '{field}' must be a non-empty list")
    out = []
    for item in v:
        if not isinstance(item, str) or not item.strip():
            raise _fail(path, where, f"field '{field}' has a non-string or empty entry {item!r}")
        out.append(item)
    dup = sorted({x for x in out if out.count(x) > 1})
    if dup:
        raise _fail(path, where, f"field '{field}' repeats {', '.join(map(repr, dup))}")
    return tuple(out)


def _metric(path: Path, where: str, v: Any) -> str:
    if v is None:
        raise _fail(path, where, "missing metric (no per-cell 'metric' and no table 'metric')")
    if v not in METRICS:
        raise _fail(path, where, f"unknown metric {v!r}; valid choices: {', '.join(METRICS)}")
    return v


def _scale(path: Path, where: str, v: Any) -> Optional[int]:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise _fail(path, where, f"field 'scale' must be a positive integer or null, got {v!r}")
    return v


def _best(path: Path, where: str, v: Any) -> Optional[str]:
    if v not in BEST:
        raise _fail(path, where, f"field 'best' must be max, min or null, got {v!r}")
    return v


def _parse_paper(data: Any, path: Path) -> PublishedPaper:
    _check_keys(path, "top level", data, _PAPER_KEYS, _PAPER_KEYS - {"notes", "seed", "source"})
    paper = _str(path, "top level", "paper", data["paper"])
    if paper != path.stem:
        raise _fail(path, "top level", f"field 'paper' is {paper!r} but the file stem is {path.stem!r}")
    title = _str(path, "top level", "title", data["title"])
    venue = _str(path, "top level", "venue", data["venue"])
    if ("seed" in data) == ("source" in data):
        raise _fail(path, "top level", "give exactly one of 'seed' (a seed file) and 'source' (where the "
                                       "numbers were read, for a paper that is not a seed)")
    seed = ""
    if "seed" in data:
        seed = _str(path, "top level", "seed", data["seed"])
        if not _SEED.match(seed):
            raise _fail(path, "top level", f"field 'seed' {seed!r} is not a seed file name like 000_<hash>.txt")
    else:
        _str(path, "top level", "source", data["source"])
    notes_raw = data.get("notes") or []
    if not isinstance(notes_raw, list) or not all(isinstance(n, str) for n in notes_raw):
        raise _fail(path, "top level", "field 'notes' must be a list of strings")
    tables_raw = data["tables"]
    if not isinstance(tables_raw, list) or not tables_raw:
        raise _fail(path, "top level", "field 'tables' must be a non-empty list")
    tables = []
    seen = set()
    for i, t in enumerate(tables_raw):
        table = _parse_table(t, path, i)
        if table.id in seen:
            raise _fail(path, f"tables[{i}]", f"table id {table.id!r} appears twice")
        seen.add(table.id)
        tables.append(table)
    return PublishedPaper(
        paper=paper,
        title=title,
        venue=venue,
        seed=seed,
        notes=tuple(notes_raw),
        tables=tuple(tables),
    )


def _parse_table(t: Any, path: Path, index: int) -> PublishedTable:
    where = f"tables[{index}]"
    _check_keys(path, where, t, _TABLE_KEYS, _TABLE_KEYS)
    tid = t["id"]
    if not isinstance(tid, str) or not _TABLE_ID.match(tid):
        raise _fail(path, where, f"field 'id' must look like table2 or fig3, got {tid!r}")
    where = f"table {tid}"
    caption = _str(path, where, "caption", t["caption"])
    rows = _str_list(path, where, "rows", t["rows"])
    columns = _str_list(path, where, "columns", t["columns"])
    metric = t["metric"]
    if metric is not None:
        _metric(path, where, metric)
    scale = _scale(path, where, t["scale"])
    best = _best(path, where, t["best"])

    methods = t["methods"]
    if not isinstance(methods, dict):
        raise _fail(path, where, "field 'methods' must map row labels to method ids")
    for label, mid in methods.items():
        if label not in rows:
            raise _fail(path, where, f"field 'methods' names unknown row label {label!r}; rows: {list(rows)}")
        if not isinstance(mid, str) or not _METHOD_ID.match(mid):
            raise _fail(
                path, where, f"field 'methods': method id {mid!r} for row {label!r} is not lower-case/hyphenated"
            )
    missing = [r for r in rows if r not in methods]
    if missing:
        raise _fail(path, where, f"field 'methods' has no method id for row(s) {missing}")

    cells_raw = t["cells"]
    if not isinstance(cells_raw, list) or not cells_raw:
        raise _fail(path, where, "field 'cells' must be a non-empty list")
    cells = []
    seen = set()
    for j, c in enumerate(cells_raw):
        cw = f"table {tid} cells[{j}]"
        _check_keys(path, cw, c, _CELL_KEYS, _CELL_REQUIRED)
        row, column, text = c["row"], c["column"], c["value"]
        if row not in rows:
            raise _fail(path, cw, f"unknown row label {row!r}; rows: {list(rows)}")
        if column not in columns:
            raise _fail(path, cw, f"column {column!r} is not in the table's columns {list(columns)}")
        if (row, column) in seen:
            raise _fail(path, cw, f"second cell at row {row!r}, column {column!r}")
        seen.add((row, column))
        if not isinstance(text, str):
            raise _fail(
                path,
                cw,
                f"field 'value' must be a quoted string exactly as printed (got {type(text).__name__} {text!r})",
            )
        if not _NUMBER.match(text):
            raise _fail(path, cw, f"field 'value' {text!r} is not numeric (write e.g. \"37.980\")")
        printed = c.get("printed")
        if printed is not None and not isinstance(printed, str):
            raise _fail(path, cw, f"field 'printed' must be a string, got {printed!r}")
        cell_metric = _metric(path, cw, c.get("metric", metric))
        cell_scale = _scale(path, cw, c.get("scale", scale))
        cell_best = _best(path, cw, c.get("best", best))
        if "dataset" in c:
            dataset = c["dataset"]
            if dataset is not None and dataset not in DATASETS:
                raise _fail(
                    path, cw, f"unknown dataset {dataset!r}; valid choices: {', '.join(DATASETS)} or null"
                )
        elif column in DATASETS:
            dataset = column
        else:
            raise _fail(
                path,
                cw,
                f"missing field 'dataset' (column {column!r} is not a dataset name; "
                f"give one of {', '.join(DATASETS)} or null)",
            )
        decimals = len(text.split(".")[1]) if "." in text else 0
        cells.append(
            PublishedCell(
                row=row,
                column=column,
                method=methods[row],
                value_text=text,
                value=float(Decimal(text)),
                decimals=decimals,
                metric=cell_metric,
                scale=cell_scale,
                dataset=dataset,
                best=cell_best,
                printed=printed,
            )
        )
    return PublishedTable(
        id=tid,
        caption=caption,
        rows=rows,
        columns=columns,
        metric=metric,
        scale=scale,
        best=best,
        methods=dict(methods),
        cells=tuple(cells),
    )
