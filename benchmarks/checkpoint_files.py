"""Where checkpoint files named in a matrix or on the command line are found, and what a
profile's teachers are when their checkpoints are (or are not) there.

A name such as `edsr_x2-0edfb8a3.pt` is looked for, in order: as given (a path), then in
`--weights-dir` / $BENCH_WEIGHTS_DIR (the metric weights' folders, benchmarks/metrics/weights.py),
torch.hub's checkpoints folder (where EDSR-PyTorch's `--pre_train download` puts them), and
the development folder ../shared/weights (and its pretrained/) when present. Nothing is
downloaded: a missing file is one line naming the file, its URL and the folder to put it in.

A profile's `teacher_weights: {label: {scale: file}}` makes the teacher a load cell of that
file where it is found, and a teacher trained from scratch (the matrix's own `baseline`
teacher) where it is not; `teacher_sources` says which, one line each, for `bench run` and
the report, and the teacher's label carries it ("(official checkpoint)" / "(trained from
scratch)").
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Mapping

from .archs.pretrained import known
from .spec import ArchSpec

SHARED_WEIGHTS = Path(__file__).resolve().parents[1].parent / "shared" / "weights"
LOADED, SCRATCH = "official checkpoint", "trained from scratch"


def search_dirs(weights_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders a checkpoint name is looked for in, in order."""
    import torch.hub

    from .metrics.weights import weights_dirs  # the CLI's --weights-dir and BENCH_WEIGHTS_DIR

    dirs = list(weights_dirs(weights_dir)) + [Path(torch.hub.get_dir()) / "checkpoints"]
    if SHARED_WEIGHTS.is_dir():
        dirs += [SHARED_WEIGHTS, SHARED_WEIGHTS / "pretrained"]
    return list(dict.fromkeys(dirs))


def find(name: str | os.PathLike, weights_dir: str | os.PathLike | None = None) -> Path | None:
    """The file `name` (a path, or a bare name looked up in `search_dirs`), or None."""
    path = Path(name).expanduser()
    if path.is_file():
        return path.resolve()
    for folder in search_dirs(weights_dir):
        if (folder / path.name).is_file():
            return (folder / path.name).resolve()
    return None


def missing_line(name: str | os.PathLike, weights_dir: str | os.PathLike | None = None) -> str:
    """One line: the file, where it was looked for, its URL and where to put it."""
    filename = Path(name).name
    dirs = search_dirs(weights_dir)
    ck = known(filename)
    url = f"download {ck.url}" if ck else "not a known public checkpoint (no URL)"
    target = (f"into {dirs[0]}" if weights_dir or os.environ.get("BENCH_WEIGHTS_DIR") else
              "into a folder given with --weights-dir DIR or BENCH_WEIGHTS_DIR=DIR")
    return (f"checkpoint {filename} not found (looked in {', '.join(str(d) for d in dirs)}); "
            f"{url} {target}")


@dataclasses.dataclass(frozen=True)
class TeacherSource:
    """Where one teacher of one profile and scale comes from."""

    label: str
    scale: int
    filename: str
    path: str | None  # the checkpoint found, or None: trained from scratch
    missing: str = ""  # the one-line reason when not found

    @property
    def loaded(self) -> bool:
        return self.path is not None

    def line(self) -> str:
        if self.loaded:
            return f"teacher {self.label} x{self.scale}: {LOADED} {self.filename} ({self.path})"
        return f"teacher {self.label} x{self.scale}: {SCRATCH} -- {self.missing}"


def teacher_sources(teacher_weights: Mapping[str, Mapping[str, str]], scales,
                    weights_dir: str | os.PathLike | None = None) -> list[TeacherSource]:
    """One TeacherSource per (label, scale) a profile names a checkpoint for."""
    out = []
    for label, files in teacher_weights.items():
        for scale in scales:
            name = files.get(str(scale))
            if name is None:
                continue
            path = find(name, weights_dir)
            out.append(TeacherSource(label, scale, Path(name).name, str(path) if path else None,
                                     "" if path else missing_line(name, weights_dir)))
    return out


def with_teachers(archs: Mapping[str, ArchSpec], sources: list[TeacherSource], scale: int) -> dict[str, ArchSpec]:
    """`archs` with each teacher of `scale` loading its checkpoint, or labelled as trained from scratch."""
    out = dict(archs)
    for src in sources:
        if src.scale == scale and src.label in out:
            arch = out[src.label]
            if src.loaded:
                out[src.label] = dataclasses.replace(arch, weights=src.path, label=f"{src.label} ({LOADED})")
            else:
                out[src.label] = dataclasses.replace(arch, label=f"{src.label} ({SCRATCH})")
    return out
