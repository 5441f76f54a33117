"""DMOS from 1-5 ratings, per the SRGAN-KD paper (Lee & Park 2021, eqs. 4-6; Tables 3-4).

For rater i, SR image j (one method's output for one test image) and its ground truth
ref(j), all rated blind on the same page:

    d_ij   = r_i,ref(j) - r_ij                       (4)
    z_ij   = (d_ij - mean_i(d)) / std_i(d)          (5)   over all SR items rater i rated
    DMOS_j = (1/N) sum_i 100 (z_ij + 3) / 6         (6)   N raters

Choices the paper leaves open, made here:

* std_i is the *sample* standard deviation (ddof=1), as MATLAB's `std` and the LIVE DMOS
  protocol use; `ddof=0` (population, numpy's default) is available. With ddof=1 the z
  values are slightly smaller in magnitude (factor sqrt((K-1)/K) for K items per rater).
* z is not clipped to [-3, 3]; DMOS can leave 0-100 for extreme raters.
* A rater whose d_ij are all equal (std 0) has undefined z: the file is rejected.

Direction (the paper's open "sign question"): with d = r_ref - r, a *larger* DMOS means the
SR image was rated further *below* its reference, i.e. worse — the usual meaning of a
*difference* MOS. The paper's text and Table 3 read higher DMOS as better. Both are given:
``dmos`` is eqs. 4-6 exactly (higher = worse), ``dmos_inverted`` = 100 - dmos is the same
computation with d = r - r_ref (higher = better, the paper's reading). Every rendered table
says which one it shows.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import BenchError, MissingFileError

REFERENCE_LABEL = "HR"
SCORE_MIN, SCORE_MAX = 1, 5
DIRECTION_NOTE = ("DMOS per eqs. 4-6 (d = r_ref - r): higher = worse (rated further below the "
                  "reference). The paper reads higher as better; that reading is 100 - DMOS "
                  "('dmos_inverted').")


class RatingsError(BenchError):
    """A ratings or key file that cannot be scored; the message says what and where."""


@dataclasses.dataclass(frozen=True)
class DmosResult:
    items: pd.DataFrame      # one row per SR item: image_id, method, image, dmos, dmos_inverted
    per_method: pd.DataFrame  # method -> mean dmos, mean dmos_inverted, n_images
    raters: tuple[str, ...]
    ddof: int

    def table3(self, inverted: bool = False) -> pd.DataFrame:
        """Rows images, columns methods (the paper's Table 3 layout), last row 'Mean'."""
        col = "dmos_inverted" if inverted else "dmos"
        wide = self.items.pivot(index="image", columns="method", values=col)
        wide = wide[list(self.per_method.index)]
        wide.loc["Mean"] = wide.mean(axis=0)
        wide.index.name = "image"
        return wide

    def to_json(self) -> dict:
        return {
            "formula": "SRGAN-KD eqs. 4-6",
            "direction": DIRECTION_NOTE,
            "std": "sample (ddof=1)" if self.ddof == 1 else f"ddof={self.ddof}",
            "raters": list(self.raters),
            "items": self.items.to_dict(orient="records"),
            "per_method": {m: {k: (None if isinstance(v, float) and math.isnan(v) else v)
                               for k, v in row.items()}
                           for m, row in self.per_method.to_dict(orient="index").items()},
        }


def read_key(path: str | Path) -> pd.DataFrame:
    """The hidden key written by `export`: image_id, method, image, is_reference."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"DMOS key file not found: {path}")
    try:
        key = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise RatingsError(f"cannot read DMOS key {path}: {exc}") from None
    need = {"image_id", "method", "image", "is_reference"}
    if not need <= set(key.columns):
        raise RatingsError(f"DMOS key {path} lacks columns {sorted(need - set(key.columns))}")
    key["is_reference"] = key["is_reference"].astype(str).str.strip().isin(["1", "true", "True"])
    dup = sorted(key.image_id[key.image_id.duplicated()])
    if dup:
        raise RatingsError(f"DMOS key {path}: duplicate image ids {dup[:5]}")
    refs = key[key.is_reference]
    for image in key[~key.is_reference].image.unique():
        if (refs.image == image).sum() != 1:
            raise RatingsError(f"DMOS key {path}: image {image!r} has no (or several) reference rows")
    return key.reset_index(drop=True)


def read_ratings(path: str | Path, key: pd.DataFrame) -> pd.DataFrame:
    """Validated ratings: columns rater, image_id, score (int 1..5); every rater rated every id."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"ratings file not found: {path}")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        fields = [c.strip() for c in (reader.fieldnames or [])]
        need = ["rater", "image_id", "score"]
        if any(c not in fields for c in need):
            raise RatingsError(f"{path}: the header must have columns rater,image_id,score; "
                               f"found {','.join(fields) or 'nothing'}")
        rows = [{k.strip(): (v or "").strip() for k, v in r.items() if k is not None} for r in reader]
    if not rows:
        raise RatingsError(f"{path}: no ratings")
    known = set(key.image_id)
    seen: dict[tuple[str, str], int] = {}
    out = []
    for n, r in enumerate(rows, start=2):  # line 1 is the header
        where = f"{path}, line {n}"
        rater, image_id, raw = r.get("rater", ""), r.get("image_id", ""), r.get("score", "")
        if not rater:
            raise RatingsError(f"{where}: missing rater name")
        if image_id not in known:
            raise RatingsError(f"{where}: unknown image id {image_id!r} (not in the key)")
        try:
            score = float(raw)
        except ValueError:
            raise RatingsError(f"{where}: score {raw!r} is not a number") from None
        if not score.is_integer() or not SCORE_MIN <= score <= SCORE_MAX:
            raise RatingsError(f"{where}: score {raw!r} out of range: must be an integer "
                               f"{SCORE_MIN}..{SCORE_MAX}")
        if (rater, image_id) in seen:
            raise RatingsError(f"{where}: rater {rater!r} rated {image_id} twice "
                               f"(first on line {seen[(rater, image_id)]})")
        seen[(rater, image_id)] = n
        out.append((rater, image_id, int(score)))
    ratings = pd.DataFrame(out, columns=["rater", "image_id", "score"])
    for rater, group in ratings.groupby("rater", sort=True):
        missing = sorted(known - set(group.image_id))
        if missing:
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise RatingsError(f"{path}: rater {rater!r} did not rate {len(missing)} of "
                               f"{len(known)} images: {', '.join(missing[:5])}{more}")
    return ratings


def compute_dmos(key: pd.DataFrame, ratings: pd.DataFrame, ddof: int = 1,
                 method_order: Sequence[str] | None = None) -> DmosResult:
    """Eqs. 4-6 on validated inputs (see the module docstring for the choices).

    Methods are listed in `method_order` (e.g. the export's order), unknown ones after, sorted.
    """
    ref_id = key[key.is_reference].set_index("image")["image_id"]
    items = key[~key.is_reference][["image_id", "method", "image"]].reset_index(drop=True)
    if items.empty:
        raise RatingsError("the DMOS key has no SR images")
    r = ratings.pivot(index="rater", columns="image_id", values="score").astype(float)
    raters = tuple(r.index)
    sr = r[items.image_id.to_list()].to_numpy()                           # raters x items
    ref = r[[ref_id[img] for img in items.image]].to_numpy()
    d = ref - sr                                                          # (4)
    if d.shape[1] - ddof <= 0:
        raise RatingsError(f"need more than {ddof} SR item(s) per rater for a z-score")
    mean = d.mean(axis=1, keepdims=True)
    std = d.std(axis=1, ddof=ddof, keepdims=True)
    flat = [raters[i] for i in np.flatnonzero(std[:, 0] == 0)]
    if flat:
        raise RatingsError(f"rater(s) {', '.join(map(repr, flat))} gave every SR image the same "
                           "difference to its reference (std 0): z-scores are undefined")
    z = (d - mean) / std                                                  # (5)
    dmos = (100.0 * (z + 3.0) / 6.0).mean(axis=0)                         # (6)
    items = items.assign(dmos=dmos, dmos_inverted=100.0 - dmos, n_raters=len(raters))
    present = set(items.method)
    order = [m for m in (method_order or []) if m in present]
    order += sorted(present - set(order))
    per_method = (items.groupby("method")
                  .agg(dmos=("dmos", "mean"), dmos_inverted=("dmos_inverted", "mean"),
                       n_images=("image", "nunique"))
                  .loc[order])
    return DmosResult(items, per_method, raters, ddof)


def score_files(key_path: str | Path, ratings_path: str | Path, ddof: int = 1) -> DmosResult:
    """Validate and score; methods in the export's order (study.json beside the key) if present."""
    key = read_key(key_path)
    order = None
    manifest = Path(key_path).parent / "study.json"
    if manifest.is_file():
        try:
            order = list(json.loads(manifest.read_text()).get("methods", {}))
        except (ValueError, AttributeError):
            order = None
    return compute_dmos(key, read_ratings(ratings_path, key), ddof=ddof, method_order=order)


def render_tables(result: DmosResult, mean_pi: Mapping[str, float | None] | None = None,
                  inverted: bool = False, digits: int = 2) -> str:
    """Table 3 (DMOS per image and method) and, when given, Table 4 (mean PI per method)."""
    t3 = result.table3(inverted=inverted)
    which = "100 - DMOS (higher = better, the paper's reading)" if inverted else \
        "DMOS per eqs. 4-6 (higher = worse)"
    lines = [f"Table 3 layout — {which}; {len(result.raters)} raters, "
             f"std {'sample' if result.ddof == 1 else f'ddof={result.ddof}'}"]
    lines += _text_table(["image"] + list(t3.columns),
                         [[str(idx)] + [f"{v:.{digits}f}" for v in row] for idx, row in t3.iterrows()])
    if mean_pi is not None:
        lines.append("")
        lines.append("Table 4 layout — mean PI over the same images (lower = better)")
        methods = list(t3.columns)
        lines += _text_table(["", *methods], [["PI"] + [
            "not computed" if mean_pi.get(m) is None or (isinstance(mean_pi.get(m), float)
                                                          and math.isnan(mean_pi[m]))
            else f"{mean_pi[m]:.4f}" for m in methods]])
    lines.append("")
    lines.append(DIRECTION_NOTE)
    return "\n".join(lines)


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    fmt = lambda cells: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                                  for i, (c, w) in enumerate(zip(cells, widths)))
    return [fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]


def save(result: DmosResult, csv_path: str | Path | None = None, json_path: str | Path | None = None,
         mean_pi: Mapping[str, float | None] | None = None) -> None:
    """Table-3 CSV (rows images + 'Mean', columns methods; DMOS per eqs. 4-6) and/or full JSON."""
    if csv_path is not None:
        Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
        result.table3().to_csv(csv_path, float_format="%.4f")
    if json_path is not None:
        data = result.to_json()
        if mean_pi is not None:
            data["mean_pi"] = {m: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v)
                               for m, v in mean_pi.items()}
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(data, indent=2, default=float))


def study_mean_pi(key_path: str | Path, study_dir: str | Path | None = None,
                  crop_border: int = 0) -> tuple[dict[str, float | None], str]:
    """Mean PI per method over the study's own SR images (the paper's Table 4).

    Returns (method -> mean PI or None when PI cannot be computed here, note/reason).
    """
    from data_manifest.pixels import decode_rgb

    from ..metrics import MetricUnavailable, get_metric

    key = read_key(key_path)
    study = Path(study_dir) if study_dir else Path(key_path).parent / "study"
    pi = get_metric("pi")
    out: dict[str, float | None] = {}
    for method, group in key[~key.is_reference].groupby("method", sort=False):
        paths = [study / f"{i}.png" for i in group.image_id]
        for p in paths:
            if not p.is_file():
                raise MissingFileError(f"study image not found: {p}")
        try:
            out[method] = pi.score([decode_rgb(p) for p in paths], None, crop_border).mean
        except MetricUnavailable as exc:  # weights missing here
            return {m: None for m in key[~key.is_reference].method.unique()}, str(exc)
    return out, f"PI over {len(key[~key.is_reference].image.unique())} images, crop {crop_border}"
