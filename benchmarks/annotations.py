"""Where each setting of a matrix comes from, written next to the value in the matrix YAML.

Any value of a matrix may be written as

    iterations: {value: 600000, source: code, note: "600 epochs (paper) x 1000 iterations
                 per epoch (EDSR-PyTorch test_every 1000)"}

`source` is one of `paper` (the paper states it), `code` (the code the paper builds on or
cites: EDSR-PyTorch, the FAKD code, ...; the note says where) or `ours` (a choice of this
harness where neither says; the note says why); `note` is required except for `paper`. A
setting that no field holds (e.g. "x3/x4 models are trained from scratch") is an entry of the
top-level list `assumptions: [{setting, value, source, note, profiles?}]`; a method's default
(a config field no row sets) is `{method, field, source, note}`, its value read from the
method's Config, so the note can never disagree with what runs.

`extract(data)` takes the annotations out before the matrix is parsed, so the parser sees plain
values (an annotated value keys a cell exactly as the plain value does) and the report renders
the annotations (benchmarks/fidelity.py): one source of truth, the YAML. Annotations under
`profiles.<name>` belong to that profile; the others to every profile (or to `profiles:`).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Mapping

from .errors import BenchError

SOURCES = {"paper": "paper", "code": "cited code", "ours": "our choice"}
_KEYS = {"value", "source", "note"}
_ASSUMPTION_KEYS = {"setting", "value", "source", "note", "profiles"}
_DEFAULT_KEYS = {"method", "field", "source", "note", "profiles"}


@dataclasses.dataclass(frozen=True)
class Annotation:
    """One setting: where it is (`setting`), its value as text, its source and the note."""

    setting: str
    value: str
    source: str  # paper | code | ours
    note: str = ""
    profile: str | None = None  # None: every profile
    profiles: tuple[str, ...] = ()  # assumptions only: the profiles it applies to (() = all)
    path: tuple[str, ...] = ()  # where the value sits in the YAML (empty for assumptions)

    @property
    def source_label(self) -> str:
        return SOURCES[self.source]

    def applies_to(self, profile: str) -> bool:
        if self.profile is not None:
            return self.profile == profile
        return not self.profiles or profile in self.profiles


def _is_annotated(value: Any) -> bool:
    return isinstance(value, Mapping) and "value" in value and "source" in value and set(value) <= _KEYS


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _check(where: str, source: Any, note: Any) -> None:
    if source not in SOURCES:
        raise BenchError(f"{where}.source: unknown value {source!r}; valid choices: {', '.join(SOURCES)}")
    if not isinstance(note, str) or (source != "paper" and not note.strip()):
        raise BenchError(f"{where}.note: a {SOURCES[source]} value needs a note saying where it comes from")


def extract(data: Any, source: str = "<matrix>") -> tuple[Any, tuple[Annotation, ...]]:
    """(the matrix data with plain values and without `assumptions`, its annotations)."""
    if not isinstance(data, Mapping):
        return data, ()
    found: list[Annotation] = []

    def display(path: list[str]) -> tuple[str, str | None]:
        if len(path) >= 2 and path[0] == "profiles":
            return f"profile {path[1]}: {'.'.join(path[2:])}", path[1]
        if len(path) >= 2 and path[0] == "methods":
            row = (data.get("methods") or [])[int(path[1])]
            name = row.get("label", row.get("method")) if isinstance(row, Mapping) else path[1]
            return f"row {name}: {'.'.join(path[2:])}", None
        if len(path) >= 2 and path[0] in ("teachers", "students", "models"):
            return f"{path[0][:-1]} {path[1]}: {'.'.join(path[2:])}", None
        return ".".join(path), None

    def walk(value: Any, path: list[str]) -> Any:
        if _is_annotated(value):
            where = f"{source}: {'.'.join(path)}"
            note = value.get("note", "")
            _check(where, value["source"], note)
            setting, profile = display(path)
            found.append(Annotation(setting, _text(value["value"]), value["source"], note.strip(), profile,
                                    path=tuple(path)))
            return walk(value["value"], path)
        if isinstance(value, Mapping):
            return {k: walk(v, path + [str(k)]) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, path + [str(i)]) for i, v in enumerate(value)]
        return value

    clean = dict(data)
    assumptions = clean.pop("assumptions", None) or []
    clean = walk(clean, [])
    if not isinstance(assumptions, list):
        raise BenchError(f"{source}: assumptions: expected a list of {{setting, value, source, note}}")
    for i, raw in enumerate(assumptions):
        where = f"{source}: assumptions[{i}]"
        if not isinstance(raw, Mapping):
            raise BenchError(f"{where}: expected a mapping with setting, value, source, note")
        valid = _DEFAULT_KEYS if "method" in raw else _ASSUMPTION_KEYS
        unknown = set(raw) - valid
        if unknown:
            raise BenchError(f"{where}: unknown field {sorted(unknown)[0]!r}; valid fields: "
                             f"{', '.join(sorted(valid))}")
        for key in sorted(valid - {"note", "profiles"}):
            if key not in raw:
                raise BenchError(f"{where}: missing field {key!r}")
        _check(where, raw["source"], raw.get("note", ""))
        profiles = raw.get("profiles") or []
        if not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles):
            raise BenchError(f"{where}.profiles: expected a list of profile names, got {profiles!r}")
        setting, value = (_method_default(raw["method"], raw["field"], where) if "method" in raw
                          else (str(raw["setting"]), _text(raw["value"])))
        found.append(Annotation(setting, value, raw["source"], str(raw.get("note", "")).strip(), None,
                                tuple(profiles)))
    return clean, tuple(found)


def _method_default(method: Any, field: Any, where: str) -> tuple[str, str]:
    """("<method>: <field> (default)", the default's text) from the method's Config."""
    from methods import METHODS

    if method not in METHODS:
        raise BenchError(f"{where}.method: unknown value {method!r}; valid choices: {', '.join(METHODS.names())}")
    fields = {f.name: f for f in dataclasses.fields(METHODS.get(method).Config)}
    if field not in fields:
        raise BenchError(f"{where}.field: method {method!r} has no config field {field!r}; valid fields: "
                         f"{', '.join(fields)}")
    default = fields[field].default
    if default is dataclasses.MISSING:
        default = fields[field].default_factory()  # type: ignore[misc]
    return f"{method}: {field} (default)", _text(list(default) if isinstance(default, tuple) else default)


def for_profile(annotations: tuple[Annotation, ...], profile: str) -> list[Annotation]:
    """The annotations that apply to `profile`, in the matrix's order."""
    return [a for a in annotations if a.applies_to(profile)]
