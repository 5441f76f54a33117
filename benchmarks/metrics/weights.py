"""Weight files of the learned metrics: where they are looked for, how they get there.

Every learned metric names its files in `WEIGHT_FILES`. A file is resolved, in this order, from

1. the weights directory given on the command line (`--weights-dir`, see `set_weights_dir`),
2. the directory in the environment variable ``BENCH_WEIGHTS_DIR``,
3. the library's own cache (pyiqa: ``torch.hub.get_dir()/pyiqa``; torchvision, lpips and
   pytorch-fid: ``torch.hub.get_dir()/checkpoints``), i.e. where the library itself would
   have downloaded it.

A weights directory may be flat (``DIR/NRQM_model.mat``) or shaped like a ``TORCH_HOME``
(``DIR/hub/pyiqa/NRQM_model.mat``, ``DIR/hub/checkpoints/alexnet-owt-7be5be79.pth``).

A file found nowhere is downloaded from the library's URL into the library's cache, as the
library itself would do (unless ``BENCH_OFFLINE=1``). When that fails the metric raises
`MetricUnavailable` with one line: the file, its URL, and where to put it. Presence is
checked here *before* the library is called, so no URL error escapes from deep inside it.

Files found outside the library cache are handed to the library explicitly: pyiqa takes a
``pretrained_model_path``; torchvision (LPIPS backbones) and pytorch-fid only look in
``torch.hub.get_dir()/checkpoints``, so `hub_checkpoints` points torch.hub at a private
folder of links to the resolved files while those models are built.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path
from typing import Iterator, Sequence

from data_manifest.pixels import file_sha256

from . import MetricUnavailable

ENV_WEIGHTS_DIR = "BENCH_WEIGHTS_DIR"
ENV_OFFLINE = "BENCH_OFFLINE"
DOWNLOAD_TIMEOUT_S = 60

_PYIQA_BASE = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/"
_LPIPS_BASE = "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/"


@dataclasses.dataclass(frozen=True)
class WeightFile:
    """One file a metric needs.

    cache: 'pyiqa' (pyiqa's folder torch.hub.get_dir()/pyiqa), 'hub' (torch.hub's
    checkpoints folder, used by torchvision and pytorch-fid) or 'bundled' (shipped inside a
    library's wheel; `bundled_in` names the package and the path inside it).
    sha256: full digest where a canonical copy is known; hash_prefix: torch.hub's convention
    (the first hex digits of the sha256, embedded in the file name) — checked on download.
    """

    filename: str
    url: str
    cache: str
    sha256: str | None = None
    hash_prefix: str | None = None
    bundled_in: tuple[str, str] | None = None
    note: str = ""


NIQE_PARAMS = WeightFile(
    "niqe_modelparameters.mat", _PYIQA_BASE + "niqe_modelparameters.mat", "pyiqa",
    sha256="fa2aa4d12dd9595c3fb6bf8b4e1a15c79d5d1469238d0901c88dead195be578d",
    note="NIQE pristine model (official MATLAB release values); sha256 of the copy in "
         "roimehrez/PIRM2018 — other copies with the same numbers may differ in bytes",
)
NRQM_MODEL = WeightFile(
    "NRQM_model.mat", _PYIQA_BASE + "NRQM_model.mat", "pyiqa",
    note="Ma et al. NRQM random forests + linear regression",
)
ALEXNET = WeightFile(
    "alexnet-owt-7be5be79.pth", "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    "hub", hash_prefix="7be5be79", note="torchvision AlexNet (ImageNet), LPIPS trunk",
)
VGG16 = WeightFile(
    "vgg16-397923af.pth", "https://download.pytorch.org/models/vgg16-397923af.pth",
    "hub", hash_prefix="397923af", note="torchvision VGG16 (ImageNet), LPIPS-VGG trunk",
)
LPIPS_ALEX_LIN = WeightFile(
    "alex.pth", _LPIPS_BASE + "alex.pth", "bundled", bundled_in=("lpips", "weights/v0.1/alex.pth"),
    note="LPIPS v0.1 linear layers, shipped in the lpips wheel",
)
LPIPS_VGG_LIN = WeightFile(
    "vgg.pth", _LPIPS_BASE + "vgg.pth", "bundled", bundled_in=("lpips", "weights/v0.1/vgg.pth"),
    note="LPIPS v0.1 linear layers, shipped in the lpips wheel",
)
FID_INCEPTION = WeightFile(
    "pt_inception-2015-12-05-6726825d.pth",
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
    "pt_inception-2015-12-05-6726825d.pth",
    "hub", hash_prefix="6726825d", note="pytorch-fid's port of the TF FID Inception (~96 MB)",
)

VGG19 = WeightFile(
    "vgg19-dcbb9e9d.pth", "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
    "hub", hash_prefix="dcbb9e9d",
    note="torchvision VGG19 (ImageNet), the SRGAN/ESRGAN perceptual loss (methods/_perceptual.py)",
)
#: Name under which `bench weights` lists the perceptual loss's file (a training loss, not a metric).
PERCEPTUAL_LOSS = "perceptual-loss"

#: metric name -> the files it needs (metrics without files are absent); PERCEPTUAL_LOSS: the
#: training losses' VGG19, listed and resolved the same way.
WEIGHT_FILES: dict[str, tuple[WeightFile, ...]] = {
    "niqe": (NIQE_PARAMS,),
    "nrqm": (NRQM_MODEL,),
    "pi": (NRQM_MODEL, NIQE_PARAMS),
    "lpips": (ALEXNET, LPIPS_ALEX_LIN),
    "lpips-vgg": (VGG16, LPIPS_VGG_LIN),
    "fid": (FID_INCEPTION,),
    "fid-patch": (FID_INCEPTION,),
    PERCEPTUAL_LOSS: (VGG19,),
}

_weights_dir: Path | None = None


def set_weights_dir(path: str | os.PathLike | None) -> None:
    """Use `path` (the CLI's --weights-dir) before BENCH_WEIGHTS_DIR; None clears it."""
    global _weights_dir
    _weights_dir = Path(path).expanduser() if path else None


def weights_dirs(weights_dir: str | os.PathLike | None = None) -> list[Path]:
    """The user-given weights directories, in search order: explicit, set_weights_dir, env."""
    out: list[Path] = []
    for d in (weights_dir, _weights_dir, os.environ.get(ENV_WEIGHTS_DIR) or None):
        if d:
            p = Path(d).expanduser()
            if p not in out:
                out.append(p)
    return out


def hub_dir() -> Path:
    import torch.hub

    return Path(torch.hub.get_dir())


def library_cache_dirs(wf: WeightFile) -> list[Path]:
    """Where the library itself looks for (and downloads) the file; first = download target."""
    if wf.cache == "bundled":
        return [bundled_path(wf).parent]
    if wf.cache == "pyiqa":
        dirs = [hub_dir() / "pyiqa"]
        import sys

        mod = sys.modules.get("pyiqa.utils.download_util")  # pyiqa fixes its folder at import
        if mod is not None:
            fixed = Path(getattr(mod, "DEFAULT_CACHE_DIR", dirs[0]))
            if fixed not in dirs:
                dirs.append(fixed)
        return dirs
    return [hub_dir() / "checkpoints"]


def bundled_path(wf: WeightFile) -> Path:
    import importlib.util

    assert wf.bundled_in is not None
    package, inner = wf.bundled_in
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return Path(f"<package {package} not installed>") / inner
    return Path(list(spec.submodule_search_locations)[0]) / inner


def candidate_paths(wf: WeightFile, weights_dir: str | os.PathLike | None = None) -> list[Path]:
    """Every path the file is looked for at, in order."""
    if wf.cache == "bundled":
        return [bundled_path(wf)]
    sub = Path("hub") / ("pyiqa" if wf.cache == "pyiqa" else "checkpoints")
    paths: list[Path] = []
    for d in weights_dirs(weights_dir):
        paths += [d / wf.filename, d / sub / wf.filename]
    paths += [d / wf.filename for d in library_cache_dirs(wf)]
    return list(dict.fromkeys(paths))


def find(wf: WeightFile, weights_dir: str | os.PathLike | None = None) -> Path | None:
    for p in candidate_paths(wf, weights_dir):
        if p.is_file():
            return p
    return None


def where_to_put(wf: WeightFile) -> str:
    if wf.cache == "bundled":
        return f"reinstall the '{wf.bundled_in[0]}' package (it ships {wf.bundled_in[1]})"
    return (f"put it in a directory passed with --weights-dir DIR or {ENV_WEIGHTS_DIR}=DIR, "
            f"or in {library_cache_dirs(wf)[0]}")


def missing_message(metric: str, wf: WeightFile, reason: str = "") -> str:
    why = f" ({reason})" if reason else ""
    what = "perceptual loss" if metric == PERCEPTUAL_LOSS else f"metric {metric!r}"
    return (f"{what}: weight file {wf.filename} is missing{why}; "
            f"download {wf.url} and {where_to_put(wf)}")


def offline() -> bool:
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in ("", "0", "false", "no")


def checksum_status(wf: WeightFile, digest: str) -> str:
    """'ok' / 'MISMATCH' against the recorded sha256 or hash prefix; 'unrecorded' otherwise."""
    if wf.sha256:
        return "ok" if digest == wf.sha256 else "differs from recorded copy"
    if wf.hash_prefix:
        return "ok" if digest.startswith(wf.hash_prefix) else "MISMATCH"
    return "unrecorded"


def download(wf: WeightFile, dest: Path, timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Fetch `wf.url` to `dest` (atomically), checking torch.hub's hash prefix when known."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{wf.filename}.", suffix=".part")
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(wf.url, timeout=timeout) as resp:
            for block in iter(lambda: resp.read(1 << 20), b""):
                out.write(block)
                h.update(block)
        digest = h.hexdigest()
        if wf.hash_prefix and not digest.startswith(wf.hash_prefix):
            raise OSError(f"downloaded file's sha256 {digest[:12]} does not start with {wf.hash_prefix}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def resolve(metric: str, wf: WeightFile, weights_dir: str | os.PathLike | None = None,
            allow_download: bool | None = None) -> Path:
    """Path of `wf`; downloads it into the library cache when online; else MetricUnavailable."""
    found = find(wf, weights_dir)
    if found is not None:
        return found
    if wf.cache == "bundled":
        raise MetricUnavailable(missing_message(metric, wf, f"not at {bundled_path(wf)}"))
    if allow_download is None:
        allow_download = not offline()
    if not allow_download:
        raise MetricUnavailable(missing_message(metric, wf, f"offline: {ENV_OFFLINE} is set"))
    if wf.filename in _failed_downloads:  # tried once in this process: do not wait again
        raise MetricUnavailable(missing_message(metric, wf, _failed_downloads[wf.filename]))
    try:
        return download(wf, library_cache_dirs(wf)[0] / wf.filename)
    except Exception as exc:  # no network, HTTP error, bad hash: all end as one line
        reason = " ".join(f"download failed: {type(exc).__name__}: {exc}".split())[:200]
        _failed_downloads[wf.filename] = reason
        raise MetricUnavailable(missing_message(metric, wf, reason)) from None


_failed_downloads: dict[str, str] = {}


def resolve_all(metric: str, weights_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """filename -> path for every file of `metric` (first missing one raises)."""
    return {wf.filename: resolve(metric, wf, weights_dir) for wf in WEIGHT_FILES.get(metric, ())}


_staging_root: Path | None = None


@contextlib.contextmanager
def hub_checkpoints(files: dict[str, Path]) -> Iterator[None]:
    """Make torch.hub (torchvision, lpips, pytorch-fid) find `files` while the block runs.

    When every file already sits in torch.hub's checkpoints folder nothing changes; otherwise
    torch.hub is pointed at a private folder whose checkpoints/ links to the resolved files.
    """
    import torch.hub

    ckpt = hub_dir() / "checkpoints"
    if all((ckpt / name).resolve() == Path(p).resolve() for name, p in files.items()):
        yield
        return
    global _staging_root
    if _staging_root is None:
        _staging_root = Path(tempfile.mkdtemp(prefix="srkd-bench-hub-"))
        import atexit

        atexit.register(shutil.rmtree, _staging_root, True)
    stage = Path(tempfile.mkdtemp(dir=_staging_root))
    (stage / "checkpoints").mkdir()
    for name, p in files.items():
        link = stage / "checkpoints" / name
        try:
            link.symlink_to(Path(p).resolve())
        except OSError:
            shutil.copyfile(p, link)
    previous = getattr(torch.hub, "_hub_dir", None)
    torch.hub.set_dir(str(stage))
    try:
        yield
    finally:
        torch.hub._hub_dir = previous


@dataclasses.dataclass(frozen=True)
class FileStatus:
    metric: str
    file: WeightFile
    looked_in: tuple[Path, ...]
    found: Path | None
    sha256: str | None
    checksum: str  # ok / MISMATCH / differs from recorded copy / unrecorded / ""


def status(metrics: Sequence[str] | None = None, weights_dir: str | os.PathLike | None = None,
           with_checksums: bool = True) -> list[FileStatus]:
    """Presence (and checksums) of every metric's files; never downloads."""
    rows = []
    digests: dict[Path, str] = {}
    for metric in metrics or sorted(WEIGHT_FILES):
        for wf in WEIGHT_FILES.get(metric, ()):
            paths = candidate_paths(wf, weights_dir)
            found = next((p for p in paths if p.is_file()), None)
            digest = None
            if found is not None and with_checksums:
                digest = digests.get(found) or file_sha256(found)
                digests[found] = digest
            rows.append(FileStatus(metric, wf, tuple(paths), found, digest,
                                   checksum_status(wf, digest) if digest else ""))
    return rows
