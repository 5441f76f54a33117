"""Blinded, randomised image sets for a DMOS study (the SRGAN-KD paper's "DMOS-input images").

`export_study({"GAN2G": dir_a, "G2G+AL": dir_b}, hr_dir, out_dir, n=10, seed=0)`:

* picks `n` test images (seeded) among the file names present in every method folder and
  in the HR folder; a folder may also be a mapping {test set: folder} (the same sets for every
  method and the HR side), and the images are then named `<set>/<file>` and picked among all
  the sets together (the SRGAN-KD paper's "randomly selected ten images");
* writes, for each picked image, every method's SR output *and* the HR reference (rated blind
  like the others: DMOS needs each rater's score of the reference) as
  ``out_dir/study/img_XXXX.png`` with random 4-digit ids, listed in a random order;
* writes ``out_dir/study/rate.html``: a self-contained page (inline CSS/JS, no network; works
  opened as a local file) showing the images in that order with 1-5 radio buttons and a
  rater-name box; its button downloads ``ratings_<rater>.csv`` with columns
  rater,image_id,score. Concatenate the raters' files (one header) for `bench dmos score`;
* writes the hidden key ``out_dir/key.csv`` (image_id, method, image, is_reference) and
  ``out_dir/study.json`` (seed, n, methods, picked images, their test sets). Hand raters only
  ``study/``.

Images are re-encoded as PNG from their pixels (no names or metadata leak through the files).
An HR image up to 15 px larger than the SR outputs is cropped at the bottom/right to their size
(the modcrop the SR pipeline applied); any other size difference is an error.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import html
import io
import json
from pathlib import Path
from typing import Mapping, Union

import numpy as np

from data_manifest.pixels import IMAGE_EXTS, decode_rgb

from ..errors import BenchError, MissingFileError
from .score import REFERENCE_LABEL, SCORE_MAX, SCORE_MIN

@dataclasses.dataclass(frozen=True)
class ExportResult:
    study_dir: Path
    key_path: Path
    html_path: Path
    images: tuple[str, ...]   # picked test images (file names)
    n_items: int              # blinded images written (n * (methods + 1))


#: One image folder, or {test set: folder}.
Folders = Union[str, Path, Mapping[str, Union[str, Path]]]


def _image_files(folder: Folders) -> dict[str, Path]:
    """File name -> path; for a mapping {set: folder}, "<set>/<file name>" -> path."""
    if isinstance(folder, Mapping):
        return {f"{ds}/{name}": p for ds, d in folder.items() for name, p in _image_files(d).items()}
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(f"image folder not found: {folder}")
    return {p.name: p for p in sorted(folder.iterdir())
            if p.is_file() and p.suffix.lower() in IMAGE_EXTS}


def _plain(folder: Folders) -> str | dict[str, str]:
    return {str(k): str(v) for k, v in folder.items()} if isinstance(folder, Mapping) else str(folder)


def _png_bytes(img: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def export_study(methods: Mapping[str, Folders], hr_dir: Folders, out_dir: str | Path,
                 n: int = 10, seed: int = 0, embed_images: bool = False,
                 title: str = "Image quality rating") -> ExportResult:
    """Write a blinded DMOS study; see the module docstring. Labels must be unique and not 'HR'."""
    if not methods:
        raise BenchError("DMOS export needs at least one method (LABEL=SR_DIR)")
    if REFERENCE_LABEL in methods:
        raise BenchError(f"method label {REFERENCE_LABEL!r} is reserved for the reference images")
    if n < 1:
        raise BenchError(f"--n must be at least 1, got {n}")
    hr_files = _image_files(hr_dir)
    sr_files = {label: _image_files(d) for label, d in methods.items()}
    common = set(hr_files)
    for label, files in sr_files.items():
        common &= set(files)
    common_sorted = sorted(common)
    if len(common_sorted) < n:
        detail = ", ".join(f"{label}: {len(f)}" for label, f in sr_files.items())
        raise BenchError(f"only {len(common_sorted)} image file names are present in the HR folder "
                         f"({len(hr_files)} images) and every method folder ({detail}); need --n {n}")

    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(common_sorted, size=n, replace=False).tolist())
    items = []
    for image in picked:
        hr = decode_rgb(hr_files[image])
        srs = {label: decode_rgb(sr_files[label][image]) for label in methods}
        first = next(iter(srs.values()))
        h, w = first.shape[:2]
        # SR outputs are modcropped: crop the HR bottom/right to their size (less than 16 px)
        if 0 <= hr.shape[0] - h < 16 and 0 <= hr.shape[1] - w < 16:
            hr = hr[:h, :w]
        items.append((REFERENCE_LABEL, image, hr))
        for label, sr in srs.items():
            if sr.shape != hr.shape:
                raise BenchError(f"{sr_files[label][image]}: size {sr.shape[1]}x{sr.shape[0]} differs "
                                 f"from the HR image's {hr.shape[1]}x{hr.shape[0]}")
            items.append((label, image, sr))
    order = rng.permutation(len(items))
    ids = rng.choice(np.arange(1000, 10000), size=len(items), replace=False)

    out = Path(out_dir)
    study = out / "study"
    study.mkdir(parents=True, exist_ok=True)
    for old in study.glob("img_*.png"):
        old.unlink()
    key_rows, page_items = [], []
    for pos, k in enumerate(order):
        label, image, pixels = items[k]
        image_id = f"img_{ids[pos]:04d}"
        data = _png_bytes(pixels)
        (study / f"{image_id}.png").write_bytes(data)
        src = ("data:image/png;base64," + base64.b64encode(data).decode("ascii")) if embed_images \
            else f"{image_id}.png"
        page_items.append((image_id, src))
        key_rows.append({"image_id": image_id, "method": label, "image": image,
                         "is_reference": int(label == REFERENCE_LABEL)})

    key_path = out / "key.csv"
    with open(key_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["image_id", "method", "image", "is_reference"])
        w.writeheader()
        w.writerows(sorted(key_rows, key=lambda r: r["image_id"]))
    (out / "study.json").write_text(json.dumps({
        "seed": seed, "n": n, "methods": {k: _plain(v) for k, v in methods.items()},
        "hr_dir": _plain(hr_dir), "images": picked,
        "datasets": sorted({i.split("/", 1)[0] for i in picked}) if isinstance(hr_dir, Mapping) else [],
        "n_items": len(items),
        "order": [i for i, _ in page_items],
    }, indent=2))
    html_path = study / "rate.html"
    html_path.write_text(rating_page(page_items, title=title))
    return ExportResult(study, key_path, html_path, tuple(picked), len(items))


def rating_page(items: list[tuple[str, str]], title: str = "Image quality rating") -> str:
    """Self-contained HTML: images in the given order, 1-5 radios, rater box, CSV download."""
    blocks = []
    for num, (image_id, src) in enumerate(items, start=1):
        radios = "".join(
            f'<label><input type="radio" name="{image_id}" value="{s}"> {s}</label>'
            for s in range(SCORE_MIN, SCORE_MAX + 1))
        blocks.append(
            f'<div class="item" id="item-{image_id}"><div class="hdr">{num} / {len(items)} '
            f'&mdash; <code>{image_id}</code></div>'
            f'<img src="{html.escape(src, quote=True)}" alt="{image_id}">'
            f'<div class="scores">{radios}</div></div>')
    ids_js = json.dumps([i for i, _ in items])
    return _PAGE.replace("__TITLE__", html.escape(title)).replace("__ITEMS__", "\n".join(blocks)) \
        .replace("__IDS__", ids_js).replace("__MIN__", str(SCORE_MIN)).replace("__MAX__", str(SCORE_MAX))


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body{font-family:sans-serif;margin:2em;background:#777;color:#111}
.panel{background:#eee;padding:1em;border-radius:6px;margin-bottom:1.5em}
.item{background:#eee;padding:1em;margin:1.5em 0;border-radius:6px}
.item.missing{outline:3px solid #c00}
.item img{max-width:100%;image-rendering:auto;display:block;margin:.5em 0}
.scores label{margin-right:1.5em;font-size:1.2em}
#status{font-weight:bold}
</style></head>
<body>
<div class="panel">
<h1>__TITLE__</h1>
<p>Rate the quality of every image from __MIN__ (bad) to __MAX__ (excellent). The images are shown
in a random order; some are originals, some are processed. Judge each image on its own.</p>
<p><label>Your name: <input id="rater" type="text" size="30" autocomplete="off"></label></p>
</div>
__ITEMS__
<div class="panel">
<button id="save" type="button">Download my ratings (CSV)</button>
<span id="status"></span>
<p>Send the downloaded file back to the organiser.</p>
</div>
<script>
(function () {
  var ids = __IDS__;
  function csvCell(s) { return /[",\\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; }
  document.getElementById('save').addEventListener('click', function () {
    var rater = document.getElementById('rater').value.trim();
    var status = document.getElementById('status');
    if (!rater) { status.textContent = 'Please enter your name first.'; return; }
    var rows = ['rater,image_id,score'], missing = [];
    ids.forEach(function (id) {
      var el = document.querySelector('input[name="' + id + '"]:checked');
      document.getElementById('item-' + id).classList.toggle('missing', !el);
      if (el) { rows.push(csvCell(rater) + ',' + id + ',' + el.value); } else { missing.push(id); }
    });
    if (missing.length) {
      status.textContent = missing.length + ' image(s) not rated yet (outlined in red).';
      document.getElementById('item-' + missing[0]).scrollIntoView();
      return;
    }
    var blob = new Blob([rows.join('\\n') + '\\n'], {type: 'text/csv'});
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'ratings_' + rater.replace(/[^A-Za-z0-9_-]+/g, '_') + '.csv';
    document.body.appendChild(a); a.click(); document.body.removeChild(a);
    status.textContent = 'Saved ' + ids.length + ' ratings.';
  });
})();
</script>
</body></html>
"""
