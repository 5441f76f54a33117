"""Evaluation throughput of the metrics on real test images: images/s per metric.

    python -m benchmarks.perf.eval_throughput [--data-dir DIR] [--sets Set5,Set14,B100]
        [--scale 4] [--metrics psnr,ssim,niqe,...] [--max-images-slow 3] [--standin-weights]
        [--compare-pyiqa-ssim] [--out DIR]

Pairs: each set's HR image (modcropped to the scale) against its official MATLAB-bicubic LR
(``LR_bicubic/X<s>``) upscaled back with PIL bicubic — a stand-in for an SR output with the
right size and statistics. PNGs are loaded directly with PIL (EDSR layout, as in
``../shared/data/sr-benchmark``). Every metric scores every set with crop_border = scale, as
the harness does; the timing excludes image loading and the first model build (reported
separately as `setup_s`). Wall time gives images/s; CPU time (all threads of this process) is
reported too, since other processes on a shared machine inflate wall time but not CPU time.

Metrics whose files are missing are reported as not computed. With --standin-weights, missing
files are replaced by stand-ins of the right shapes (`benchmarks.metrics.standins`): the
timings are representative, the *values are meaningless* and marked so.
Slow metrics are timed on the first --max-images-slow images of each set only: nrqm and pi
(pyiqa's NRQM runs float64 convolutions, ~10-40 s per image on a 2-core CPU) and fid-patch
(~28 Inception passes per B100 image and as many for its HR).

Writes ``<out>/eval_throughput.json`` and ``.md`` (default out: bench-results/perf).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sr-benchmark"
DEFAULT_METRICS = "psnr,ssim,niqe,nrqm,pi,lpips,lpips-vgg,fid,fid-patch"
SLOW = {"nrqm", "pi", "fid-patch"}


def load_set(data_dir: Path, name: str, scale: int) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    from PIL import Image

    from data_manifest.pixels import decode_rgb, modcrop

    hr_dir = data_dir / name / "HR"
    lr_dir = data_dir / name / "LR_bicubic" / f"X{scale}"
    if not hr_dir.is_dir() or not lr_dir.is_dir():
        raise SystemExit(f"missing {hr_dir} or {lr_dir}")
    srs, hrs, names = [], [], []
    for hp in sorted(hr_dir.glob("*.png")):
        lp = lr_dir / f"{hp.stem}x{scale}.png"
        if not lp.is_file():
            continue
        hr = modcrop(decode_rgb(hp), scale)
        h, w = hr.shape[:2]
        sr = np.asarray(Image.fromarray(decode_rgb(lp)).resize((w, h), Image.BICUBIC))
        srs.append(sr)
        hrs.append(hr)
        names.append(hp.name)
    return srs, hrs, names


def _time_pyiqa_ssim(sets, scale) -> dict:
    import torch
    import pyiqa

    m = pyiqa.create_metric("ssim", device="cpu", color_space="ycbcr", crop_border=scale)
    n, t, c = 0, 0.0, 0.0
    for srs, hrs in sets:
        for s, h in zip(srs, hrs):
            a = torch.from_numpy(s).permute(2, 0, 1)[None].float() / 255
            b = torch.from_numpy(h).permute(2, 0, 1)[None].float() / 255
            t0, c0 = time.perf_counter(), time.process_time()
            with torch.no_grad():
                m(a, b)
            t += time.perf_counter() - t0
            c += time.process_time() - c0
            n += 1
    return {"metric": "pyiqa ssim (reference)", "images": n, "seconds": t, "cpu_seconds": c,
            "images_per_s": n / t if t else None, "per_image_ms": 1000 * t / n if n else None,
            "status": "computed", "note": "pyiqa create_metric('ssim', color_space='ycbcr'), CPU"}


def run(args) -> dict:
    import torch

    from benchmarks import metrics as M
    from benchmarks.metrics import runtime, weights

    if args.threads:
        torch.set_num_threads(args.threads)
    data_dir = Path(args.data_dir)
    set_names = [s.strip() for s in args.sets.split(",") if s.strip()]
    loaded = {s: load_set(data_dir, s, args.scale) for s in set_names}
    names = [m.strip() for m in args.metrics.split(",") if m.strip()]

    standin_files: set[str] = set()
    if args.weights_dir:
        M.configure(weights_dir=args.weights_dir)
    if args.standin_weights:
        from benchmarks.metrics import standins

        tmp = Path(tempfile.mkdtemp(prefix="srkd-standins-"))
        present = {r.file.filename for r in weights.status(names, with_checksums=False) if r.found}
        needed = {wf.filename for m in names for wf in weights.WEIGHT_FILES.get(m, ())
                  if wf.cache != "bundled"}
        make = sorted(needed - present - {weights.NIQE_PARAMS.filename})
        if make:
            standins.write_all(tmp, tuple(make))
            for p in weights.weights_dirs():  # keep real files first: link them next to the stand-ins
                for f in p.glob("*"):
                    if f.is_file() and not (tmp / f.name).exists():
                        (tmp / f.name).symlink_to(f.resolve())
            M.configure(weights_dir=str(tmp))
            standin_files = set(make)

    from benchmarks.metrics import no_reference

    rows = []
    for name in names:
        no_reference._values.clear()  # time pi cold, not from nrqm's cached values
        metric = M.get_metric(name)
        files = {wf.filename for wf in weights.WEIGHT_FILES.get(name, ())}
        uses_standin = bool(files & standin_files)
        n_total, t_total, cpu_total, setup = 0, 0.0, 0.0, 0.0
        status, note = "computed", ""
        per_set = {}
        try:
            for set_name, (srs, hrs, _) in loaded.items():
                k = len(srs)
                if name in SLOW and args.max_images_slow:
                    k = min(k, args.max_images_slow)
                if setup == 0.0 and hasattr(metric, "model") and name not in ("pi",):
                    t0 = time.perf_counter()
                    metric.model()
                    setup = time.perf_counter() - t0
                elif setup == 0.0 and name == "pi":
                    t0 = time.perf_counter()
                    metric.niqe.model("pi")
                    metric.nrqm.model("pi")
                    setup = time.perf_counter() - t0
                t0, c0 = time.perf_counter(), time.process_time()
                res = metric.score(srs[:k], hrs[:k], args.scale)
                dt, dc = time.perf_counter() - t0, time.process_time() - c0
                per_set[set_name] = {"images": k, "seconds": dt, "cpu_seconds": dc, "value": res.mean}
                n_total += k
                t_total += dt
                cpu_total += dc
                note = res.note
        except M.MetricUnavailable as exc:
            status, note = "not computed", str(exc)
        row = {
            "metric": name, "images": n_total, "seconds": t_total, "cpu_seconds": cpu_total,
            "setup_s": setup,
            "images_per_s": (n_total / t_total) if t_total else None,
            "per_image_ms": (1000 * t_total / n_total) if n_total else None,
            "status": status, "per_set": per_set,
            "weights": "stand-in (values meaningless)" if uses_standin else "real",
            "note": note.split(";")[0] if status == "computed" else note,
        }
        rows.append(row)
        print(_fmt_row(row), flush=True)
    if args.compare_pyiqa_ssim:
        row = _time_pyiqa_ssim([(v[0], v[1]) for v in loaded.values()], args.scale)
        row["weights"] = "-"
        rows.append(row)
        print(_fmt_row(row), flush=True)

    return {
        "load_average_1_5_15": list(os.getloadavg()),  # other processes on the machine skew timings
        "sets": {s: len(v[0]) for s, v in loaded.items()},
        "scale": args.scale,
        "device": str(runtime.device()),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "rows": rows,
    }


def _fmt_row(r: dict) -> str:
    if r["status"] != "computed":
        return f"{r['metric']:<24} not computed: {r['note']}"
    return (f"{r['metric']:<24} {r['images']:>4} img  {r['seconds']:8.2f} s  "
            f"{r['images_per_s']:9.2f} img/s  {r['per_image_ms']:9.1f} ms/img  "
            f"{1000 * r['cpu_seconds'] / r['images']:9.1f} CPU-ms/img  [{r['weights']}]")


def to_markdown(result: dict) -> str:
    sets = ", ".join(f"{k} ({v})" for k, v in result["sets"].items())
    lines = [
        "# Evaluation throughput",
        "",
        f"Sets: {sets}; x{result['scale']}, crop border {result['scale']}; device "
        f"{result['device']} ({result['torch_threads']} torch threads, {result['cpu_count']} CPUs); "
        f"torch {result['torch']}; load average at the end "
        f"{', '.join(f'{x:.1f}' for x in result['load_average_1_5_15'])}.",
        "",
        "| metric | images | seconds | images/s | ms/image | CPU-ms/image | weights | note |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in result["rows"]:
        if r["status"] != "computed":
            lines.append(f"| {r['metric']} | - | - | - | - | - | - | not computed: {r['note']} |")
            continue
        lines.append(f"| {r['metric']} | {r['images']} | {r['seconds']:.2f} | {r['images_per_s']:.2f} | "
                     f"{r['per_image_ms']:.1f} | {1000 * r['cpu_seconds'] / r['images']:.1f} | "
                     f"{r.get('weights', '')} | {r.get('note', '')} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=str(DEFAULT_DATA))
    p.add_argument("--sets", default="Set5,Set14,B100")
    p.add_argument("--scale", type=int, default=4)
    p.add_argument("--metrics", default=DEFAULT_METRICS)
    p.add_argument("--weights-dir", default=None)
    p.add_argument("--standin-weights", action="store_true",
                   help="time metrics whose files are missing with stand-in weights (values meaningless)")
    p.add_argument("--max-images-slow", type=int, default=3,
                   help="images per set for nrqm, pi, fid-patch (0 = all)")
    p.add_argument("--compare-pyiqa-ssim", action="store_true", help="also time pyiqa's SSIM")
    p.add_argument("--threads", type=int, default=0,
                   help="torch CPU threads (default: torch's choice); 1 avoids OpenMP spin-waits "
                        "when other processes load the machine")
    p.add_argument("--out", default="bench-results/perf")
    args = p.parse_args(argv)
    result = run(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval_throughput.json").write_text(json.dumps(result, indent=2))
    (out / "eval_throughput.md").write_text(to_markdown(result))
    print(f"wrote {out / 'eval_throughput.json'} and {out / 'eval_throughput.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
