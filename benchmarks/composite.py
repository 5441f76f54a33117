"""Composite matrices: several paper matrices run as one (`bench run --matrix full`).

A composite YAML names its members (`includes: [clsd2023, ckd2022, ...]`) and a default
profile; every member is expanded at that profile, the rows of all members are planned
together (a cell two papers share runs once), and the report is one page per member beside
an index with, per paper, how many published numbers were reproduced within tolerance, how
many differ and how many could not be computed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import BenchError
from .matrix import MATRIX_DIR, Matrix, list_matrices, load_matrix
from .spec import RunSpec

_FIELDS = {"name", "description", "includes", "default_profile"}


@dataclasses.dataclass(frozen=True)
class Composite:
    name: str
    description: str
    members: tuple[Matrix, ...]
    default_profile: str
    source: str = ""

    def profile_name(self, profile: str | None) -> str:
        name = profile or self.default_profile
        for member in self.members:
            member.profile(name)  # every member must define it (BenchError naming the member otherwise)
        return name

    def expand(self, profile: str | None = None, seeds: int | None = None,
               teacher_weights: str | None = None) -> list[tuple[Matrix, list[RunSpec]]]:
        name = self.profile_name(profile)
        return [(m, m.expand(name, seeds=seeds, teacher_weights=teacher_weights)) for m in self.members]


def is_composite(name_or_path: str) -> bool:
    path = _path(name_or_path)
    if path is None or not path.is_file():
        return False
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError):  # load_matrix names the file and the problem
        return False
    return isinstance(data, Mapping) and "includes" in data


def load_composite(name_or_path: str) -> Composite:
    path = _path(name_or_path)
    assert path is not None
    return parse_composite(yaml.safe_load(path.read_text()), str(path))


def parse_composite(data: Mapping[str, Any], source: str) -> Composite:
    unknown = set(data) - _FIELDS
    if unknown:
        raise BenchError(f"{source}: unknown field {sorted(unknown)[0]!r}; valid fields: {', '.join(sorted(_FIELDS))}")
    includes = data.get("includes")
    if not isinstance(includes, list) or not includes or not all(isinstance(i, str) for i in includes):
        raise BenchError(f"{source}: includes: expected a list of matrix names, got {includes!r}")
    members = []
    for name in includes:
        if is_composite(name):
            raise BenchError(f"{source}: includes: {name!r} is itself a composite; list its members instead")
        try:
            members.append(load_matrix(name))
        except BenchError as exc:
            raise BenchError(f"{source}: includes: {exc}") from None
    default = str(data.get("default_profile", "smoke"))
    comp = Composite(str(data.get("name", Path(source).stem)), str(data.get("description", "")), tuple(members),
                     default, source)
    comp.profile_name(default)
    return comp


def _path(name_or_path: str) -> Path | None:
    path = Path(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or path.is_file():
        return path
    candidate = MATRIX_DIR / f"{name_or_path}.yaml"
    return candidate if name_or_path in list_matrices() else None
