"""Declarative matrices: YAML validated into a frozen Matrix that expands into RunSpecs.

Shape of a matrix file (see benchmarks/matrices/quick.yaml):
  name, description, paper (published tables to compare with), train_set, eval_sets, metrics,
  scales, seeds, default_profile,
  profiles: {smoke: {<training fields>, train_set?, eval_sets?, scales?, arch_options?}, paper: {...}},
  students: {label: {arch, <options>}},  teachers: {label: {arch, <options>, weights?}},
  models: {name: <source>}   (named input models shared by rows, see benchmarks/sources.py)
  methods: [{method, label?, id?, students?, scales?, cfg?, teacher?, init?, discriminator?, peer?,
             inputs?: {role: <source>}}],
  references: [{label, arch, weights?, <options>}]
A row's roles name its input models (a teacher label, a `models` name, or an inline
{train|load|prune|stage} source); the same cell used by several rows is trained once.
A profile may override the data, the scales and architecture options (arch_options:
{student-or-teacher label: {option: value}}) so that `smoke` runs on a CPU; reports always
state the profile, and only `paper` numbers are compared with published ones.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Mapping

import yaml

from .annotations import Annotation
from .annotations import extract as extract_annotations
from .checkpoint_files import TeacherSource, teacher_sources
from .checkpoint_files import with_teachers as with_teacher_files
from .errors import BenchError
from .figure_spec import FigureChoice, parse_figures
from .graph.cells import LoadCell, ModelRef, TrainCell
from .profile import TrainProfile
from .sources import Resolver, Source, check_cycles, check_names, parse_inputs, parse_source
from .spec import ArchSpec, RunSpec, canonical_json

MATRIX_DIR = Path(__file__).resolve().parent / "matrices"
_TOP_FIELDS = {"name", "description", "paper", "train_set", "eval_sets", "metrics", "scales", "seeds",
               "default_profile", "profiles", "students", "teachers", "models", "methods", "references",
               "figures"}
_VALID_SCALES = (2, 3, 4, 8)
_PROFILE_DATA = {"train_set", "eval_sets", "scales", "arch_options", "teacher_weights"}


@dataclasses.dataclass(frozen=True)
class MethodEntry:
    method: str
    label: str
    id: str  # matches the published tables' method ids
    students: tuple[str, ...]
    inputs: tuple[tuple[str, Source], ...]  # (role, source), roles sorted
    cfg_json: str
    scales: tuple[int, ...] = ()  # empty: the matrix's scales


@dataclasses.dataclass(frozen=True)
class ProfileData:
    """What a profile changes besides training length: data, scales, architecture sizes."""

    train_set: str | None = None
    eval_sets: tuple[str, ...] = ()
    scales: tuple[int, ...] = ()
    arch_options_json: str = "{}"
    #: {teacher label: {scale: checkpoint file}}: load where found, else train (benchmarks/checkpoint_files.py)
    teacher_weights_json: str = "{}"


@dataclasses.dataclass(frozen=True)
class Matrix:
    name: str
    description: str
    train_set: str
    eval_sets: tuple[str, ...]
    metrics: tuple[str, ...]
    scales: tuple[int, ...]
    seeds: tuple[int, ...]
    default_profile: str
    profiles: tuple[TrainProfile, ...]
    profile_data: tuple[tuple[str, ProfileData], ...]
    students: tuple[ArchSpec, ...]
    teachers: tuple[ArchSpec, ...]
    methods: tuple[MethodEntry, ...]
    references: tuple[ArchSpec, ...]
    models: tuple[tuple[str, Source], ...] = ()
    paper: str | None = None
    source: str = ""
    annotations: tuple[Annotation, ...] = ()  # where each setting comes from (benchmarks/annotations.py)
    figures: tuple[FigureChoice, ...] = ()  # visual comparisons to draw (benchmarks/figure_spec.py)

    def profile(self, name: str | None) -> TrainProfile:
        name = name or self.default_profile
        for prof in self.profiles:
            if prof.name == name:
                return prof
        raise BenchError(f"matrix {self.name!r}: unknown profile {name!r}; valid choices: "
                         f"{', '.join(p.name for p in self.profiles)}")

    def teacher_sources(self, profile: str | None = None, weights_dir: str | None = None) -> list[TeacherSource]:
        """Per teacher and scale the profile names a checkpoint for: found (loaded) or not (trained)."""
        prof = self.profile(profile)
        data = dict(self.profile_data).get(prof.name, ProfileData())
        return teacher_sources(json.loads(data.teacher_weights_json), data.scales or self.scales, weights_dir)

    def expand(self, profile: str | None = None, seeds: int | None = None,
               teacher_weights: str | None = None, weights_dir: str | None = None) -> list[RunSpec]:
        """All rows: methods x students x scales x seeds, then references x scales."""
        prof = self.profile(profile)
        checkpoints = self.teacher_sources(prof.name, weights_dir)
        data = dict(self.profile_data).get(prof.name, ProfileData())
        arch_options = json.loads(data.arch_options_json)
        scales = data.scales or self.scales
        seed_list = tuple(range(seeds)) if seeds else self.seeds
        archs = {a.label: _resized(a, arch_options) for a in self.students + self.teachers}
        train_set = data.train_set or self.train_set
        scored = dict(profile=prof, eval_sets=data.eval_sets or self.eval_sets, metrics=self.metrics)
        by_id = {e.id: e for e in self.methods}
        runs: list[RunSpec] = []
        for entry in self.methods:
            for student_label in entry.students:
                for scale in [s for s in scales if not entry.scales or s in entry.scales]:
                    rows = _Rows(with_teacher_files(archs, checkpoints, scale), dict(self.models), by_id, student_label,
                                 {"scale": scale, "profile": prof, "train_set": train_set}, teacher_weights)
                    for seed in seed_list:
                        cell = rows.cell(entry, seed)
                        for i, output in enumerate(_outputs(entry)):
                            label, row_id = (entry.label, entry.id) if i == 0 else \
                                (f"{entry.label} ({output})", f"{entry.id}:{output}")
                            runs.append(RunSpec(label=label, method=entry.method,
                                                model=ModelRef(cell, "" if i == 0 else output), row_id=row_id,
                                                **scored))
        for ref in self.references:
            for scale in scales:
                runs.append(RunSpec(label=ref.label, method="reference", model=ModelRef(LoadCell(ref, scale, ref.label)),
                                    row_id=ref.arch, **scored))
        return runs


def _outputs(entry: MethodEntry) -> tuple[str, ...]:
    """The networks a row shows: every evaluated output of its method (one row each)."""
    from methods import METHODS

    cls = METHODS.get(entry.method)
    return cls.evaluated_outputs(cls.Config.from_mapping(json.loads(entry.cfg_json)))


@dataclasses.dataclass(frozen=True)
class _Rows:
    """Builds the train cells of rows for one student and scale (a `stage` input is another
    row's cell for the same student, scale and seed)."""

    archs: Mapping[str, ArchSpec]
    models: Mapping[str, Source]
    by_id: Mapping[str, MethodEntry]
    student: str
    common: Mapping[str, Any]  # scale, profile, train_set
    teacher_weights: str | None

    def cell(self, entry: MethodEntry, seed: int) -> TrainCell:
        resolver = Resolver(self.archs, self.models, self.common, self._stage, self.teacher_weights)
        inputs = tuple((role, resolver.ref(src, seed, role)) for role, src in entry.inputs)
        return TrainCell(entry.method, self.archs[self.student], seed=seed, cfg_json=entry.cfg_json, inputs=inputs,
                         label=entry.label, **self.common)

    def _stage(self, row_id: str, seed: int) -> TrainCell:
        return self.cell(self.by_id[row_id], seed)


def _resized(spec: ArchSpec, arch_options: Mapping[str, Mapping[str, Any]]) -> ArchSpec:
    if spec.label not in arch_options:
        return spec
    return ArchSpec.make(spec.label, spec.arch, spec.kwargs | dict(arch_options[spec.label]), spec.weights)


def list_matrices() -> list[str]:
    return sorted(p.stem for p in MATRIX_DIR.glob("*.yaml"))


def load_matrix(name_or_path: str) -> Matrix:
    """Load a shipped matrix by name, or a YAML file by path."""
    path = Path(name_or_path)
    if not (name_or_path.endswith((".yaml", ".yml")) or path.is_file()):
        path = MATRIX_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise BenchError(f"unknown matrix {name_or_path!r}; valid choices: {', '.join(list_matrices())} "
                             "(or a path to a YAML file)")
    if not path.is_file():
        raise BenchError(f"matrix file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise BenchError(f"matrix {path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise BenchError(f"matrix {path}: malformed YAML{where}: {getattr(exc, 'problem', exc)}") from None
    return parse_matrix(data, source=str(path))


def parse_matrix(data: Any, source: str = "<matrix>") -> Matrix:
    if not isinstance(data, Mapping):
        raise BenchError(f"{source}: a matrix must be a mapping of fields")
    data, annotations = extract_annotations(data, source)
    unknown = set(data) - _TOP_FIELDS
    if unknown:
        raise BenchError(f"{source}: unknown field {sorted(unknown)[0]!r}; valid fields: {', '.join(sorted(_TOP_FIELDS))}")
    name = _req(data, "name", str, source)
    from data_manifest import list_datasets
    from methods import METHODS

    from .archs import ARCHS
    from .metrics import METRICS

    datasets = set(list_datasets())
    train_set = _dataset(_req(data, "train_set", str, source), datasets, f"{source}: train_set")
    eval_sets = tuple(_dataset(ds, datasets, f"{source}: eval_sets") for ds in _str_list(data, "eval_sets", source))
    metrics = tuple(_str_list(data, "metrics", source))
    for m in metrics:
        _choice(m, set(METRICS.names()), f"{source}: metrics")
    scales = tuple(_int_list(data, "scales", source))
    for s in scales:
        _choice(s, set(_VALID_SCALES), f"{source}: scales")
    seeds = tuple(_int_list(data, "seeds", source, default=[0]))

    profiles_raw = _req(data, "profiles", Mapping, source)
    profiles, profile_data = [], []
    for pname, raw in profiles_raw.items():
        where = f"{source}: profiles.{pname}"
        raw = _mapping(raw, where)
        profiles.append(TrainProfile.from_mapping(str(pname), {k: v for k, v in raw.items() if k not in _PROFILE_DATA},
                                                  where))
        profile_data.append((str(pname), _profile_data(raw, where, datasets)))
    default_profile = data.get("default_profile", "smoke")
    _choice(default_profile, {p.name for p in profiles}, f"{source}: default_profile")

    students = tuple(_arch_spec(label, v, f"{source}: students.{label}", ARCHS)
                     for label, v in _req(data, "students", Mapping, source).items())
    teachers = tuple(_arch_spec(label, v, f"{source}: teachers.{label}", ARCHS)
                     for label, v in (data.get("teachers") or {}).items())
    arch_labels = {a.label for a in students + teachers}
    for pname, pdata in profile_data:
        for label in json.loads(pdata.arch_options_json):
            _choice(label, arch_labels, f"{source}: profiles.{pname}.arch_options")
        for label in json.loads(pdata.teacher_weights_json):
            _choice(label, {t.label for t in teachers}, f"{source}: profiles.{pname}.teacher_weights")
    labels = {a.label for a in students + teachers}
    models = {str(k): parse_source(v, f"{source}: models.{k}", labels, METHODS)
              for k, v in _mapping(data.get("models") or {}, f"{source}: models").items()}
    paper = data.get("paper")
    if paper is not None:
        from .published_tables import list_papers

        _choice(paper, set(list_papers()), f"{source}: paper")
    methods = tuple(_method_entry(i, e, source, METHODS, [s.label for s in students], labels)
                    for i, e in enumerate(data.get("methods") or []))
    _check_sources(methods, models, {t.label for t in teachers}, labels, source)
    _check_method_cfg(profiles, methods, models, METHODS, source)
    references = tuple(_reference(i, e, source, ARCHS) for i, e in enumerate(data.get("references") or []))
    if not methods and not references:
        raise BenchError(f"{source}: a matrix needs at least one entry in methods or references")
    return Matrix(name=name, description=str(data.get("description", "")), train_set=train_set,
                  eval_sets=eval_sets, metrics=metrics, scales=scales, seeds=seeds,
                  default_profile=default_profile, profiles=tuple(profiles), profile_data=tuple(profile_data),
                  students=students, teachers=teachers, methods=methods, references=references,
                  models=tuple(models.items()), paper=paper,
                  source=source, annotations=annotations,
                  figures=parse_figures(data.get("figures"), f"{source}: figures", _VALID_SCALES))


def _req(data: Mapping, key: str, typ: type, where: str) -> Any:
    if key not in data:
        raise BenchError(f"{where}: missing field {key!r}")
    return _typed(data[key], typ, f"{where}: {key}")


def _typed(value: Any, typ: type, where: str) -> Any:
    if not isinstance(value, typ):
        raise BenchError(f"{where}: expected {getattr(typ, '__name__', typ)}, got {value!r}")
    return value


def _mapping(value: Any, where: str) -> Mapping:
    return _typed(value, Mapping, where)


def _str_list(data: Mapping, key: str, where: str) -> list[str]:
    value = _req(data, key, list, where)
    return [_typed(v, str, f"{where}: {key}") for v in value]


def _int_list(data: Mapping, key: str, where: str, default: list[int] | None = None) -> list[int]:
    value = data.get(key, default)
    if value is None:
        raise BenchError(f"{where}: missing field {key!r}")
    value = _typed(value, list, f"{where}: {key}")
    for v in value:
        if not isinstance(v, int) or isinstance(v, bool):
            raise BenchError(f"{where}: {key}: expected integers, got {v!r}")
    return value


def _choice(value: Any, valid: set, where: str) -> None:
    if value not in valid:
        raise BenchError(f"{where}: unknown value {value!r}; valid choices: {', '.join(map(str, sorted(valid)))}")


def _dataset(name: str, valid: set[str], where: str) -> str:
    from data_manifest.names import canonical_name

    try:
        return canonical_name(name)
    except BenchError:
        _choice(name, valid, where)
        raise


def _arch_spec(label: str, raw: Any, where: str, archs) -> ArchSpec:
    raw = dict(_mapping(raw, where))
    arch = _req(raw, "arch", str, where)
    _choice(arch, set(archs.names()), f"{where}: arch")
    weights = raw.pop("weights", None)
    raw.pop("arch")
    return ArchSpec.make(str(label), arch, raw, weights)


def _method_entry(i: int, raw: Any, source: str, methods, students: list[str], labels: set[str]) -> MethodEntry:
    from methods.base import ROLES

    where = f"{source}: methods[{i}]"
    raw = _mapping(raw, where)
    valid = {"method", "label", "id", "students", "scales", "cfg", "inputs", *ROLES}
    unknown = set(raw) - valid
    if unknown:
        raise BenchError(f"{where}: unknown field {sorted(unknown)[0]!r}; valid fields: {', '.join(sorted(valid))}")
    method = _req(raw, "method", str, where)
    _choice(method, set(methods.names()), f"{where}: method")
    cls = methods.get(method)
    cfg = dict(_mapping(raw.get("cfg") or {}, f"{where}: cfg"))
    cls.Config.from_mapping(cfg, where=f"{where}: cfg")  # validate now, not mid-matrix
    student_labels = raw.get("students") or students
    for s in student_labels:
        _choice(s, set(students), f"{where}: students")
    roles = dict(_mapping(raw.get("inputs") or {}, f"{where}: inputs"))
    for role in ROLES:
        if role in raw:
            if role in roles:
                raise BenchError(f"{where}: input {role!r} given twice (as a field and under inputs)")
            roles[role] = raw[role]
    inputs = parse_inputs(roles, f"{where}: inputs", labels, methods, method)
    if cls.needs_teacher and "teacher" not in roles:
        raise BenchError(f"{where}: method {method!r} needs a teacher; give `teacher:` (a teachers label, "
                         "a models name or a {train|load|prune} source)")
    scales = tuple(_int_list(raw, "scales", where, default=[]))
    for s in scales:
        _choice(s, set(_VALID_SCALES), f"{where}: scales")
    return MethodEntry(method=method, label=str(raw.get("label", method)), id=str(raw.get("id", method)),
                       students=tuple(student_labels), inputs=inputs, cfg_json=canonical_json(cfg), scales=scales)


def _check_sources(entries, models: dict[str, Source], teachers: set[str], labels: set[str], source: str) -> None:
    """Names exist, and no model or row depends on itself."""
    names = set(models) | teachers
    rows = {e.id for e in entries}
    for name, src in models.items():
        check_names(src, f"{source}: models.{name}", names, rows, labels)
    for i, entry in enumerate(entries):
        for role, src in entry.inputs:
            check_names(src, f"{source}: methods[{i}].{role}", names, rows, labels)
    row_sources: dict[str, tuple[Source, ...]] = {}
    for entry in entries:
        row_sources[entry.id] = row_sources.get(entry.id, ()) + tuple(s for _, s in entry.inputs)
    check_cycles(models, row_sources, source)


def _check_method_cfg(profiles, entries, models: dict[str, Source], methods, source: str) -> None:
    """A profile's `method_cfg` fields must belong to a method the matrix trains, with valid values."""
    def walk(src: Source):
        if src.form == "train":
            yield src.method
        for sub in ([src.of] if src.of else []) + [s for _, s in src.inputs]:
            yield from walk(sub)

    used = {e.method for e in entries} | {m for e in entries for _, s in e.inputs for m in walk(s)} \
        | {m for s in models.values() for m in walk(s)}
    for prof in profiles:
        where = f"{source}: profiles.{prof.name}.method_cfg"
        for key in prof.method_cfg:
            owners = [m for m in sorted(used) if key in {f.name for f in dataclasses.fields(methods.get(m).Config)}]
            if not owners:
                raise BenchError(f"{where}: no method of this matrix has a config field {key!r}")
            for m in owners:
                methods.get(m).Config.from_mapping({key: prof.method_cfg[key]}, where=f"{where} ({m})")


def _profile_data(raw: Mapping, where: str, datasets: set[str]) -> ProfileData:
    train_set = raw.get("train_set")
    if train_set is not None:
        train_set = _dataset(train_set, datasets, f"{where}: train_set")
    eval_sets = tuple(_dataset(ds, datasets, f"{where}: eval_sets")
                      for ds in (_str_list(raw, "eval_sets", where) if "eval_sets" in raw else ()))
    scales = tuple(_int_list(raw, "scales", where, default=[]))
    for s in scales:
        _choice(s, set(_VALID_SCALES), f"{where}: scales")
    arch_options = _mapping(raw.get("arch_options") or {}, f"{where}: arch_options")
    for label, opts in arch_options.items():
        _mapping(opts, f"{where}: arch_options.{label}")
    teacher_weights = {}
    for label, files in _mapping(raw.get("teacher_weights") or {}, f"{where}: teacher_weights").items():
        files = _mapping(files, f"{where}: teacher_weights.{label}")
        for s, name in files.items():
            _choice(s, set(_VALID_SCALES), f"{where}: teacher_weights.{label} scale")
            _typed(name, str, f"{where}: teacher_weights.{label}.{s}")
        teacher_weights[str(label)] = {str(s): name for s, name in files.items()}
    return ProfileData(train_set=train_set, eval_sets=eval_sets, scales=scales,
                       arch_options_json=canonical_json({str(k): dict(v) for k, v in arch_options.items()}),
                       teacher_weights_json=canonical_json(teacher_weights))


def _reference(i: int, raw: Any, source: str, archs) -> ArchSpec:
    where = f"{source}: references[{i}]"
    raw = dict(_mapping(raw, where))
    label = str(raw.pop("label", raw.get("arch", "")))
    return _arch_spec(label, raw, where, archs)
