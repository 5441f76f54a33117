"""Named input models in a matrix: how a row says where its teacher, init, discriminator come from.

A source is written in the matrix YAML as one of
  <label>                         a `teachers:` arch (trained once with `baseline`, seed 0, or
                                  loaded when it has `weights:`), or a name in `models:`
  {train: {method, arch, cfg?, seed?, inputs?: {role: source}}}
  {load: {arch, path}}            a checkpoint file (keyed by its content)
  {load: <file>}                  a known public checkpoint (benchmarks/archs/pretrained.py, e.g.
                                  edsr_x2-0edfb8a3.pt): its arch and options come with the name
  {prune: {of: source, ratio, criterion?, finetune?}}
                                  finetune: true (default false) trains the pruned model
                                  further with the method, config and inputs that trained
                                  `of` (its D, if the method takes one), keeping pruned zeros
  {stage: <row id>}               that row's trained model for the same student, scale and seed
and any mapping form may add `output: <name>` (e.g. `discriminator`) to take another of the
cell's saved networks. Sources are validated at load (unknown names, roles, cycles: one-line
errors) and resolved into graph cells per scale, seed and profile by `Resolver`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Callable, Mapping

from methods.base import ROLES

from .errors import BenchError
from .graph.cells import DeriveCell, LoadCell, ModelRef, TrainCell
from .spec import ArchSpec, canonical_json

_FORMS = ("train", "load", "prune", "stage")


@dataclasses.dataclass(frozen=True)
class Source:
    """A parsed, validated input-model description (see the module docstring)."""

    form: str  # "name" | "train" | "load" | "prune" | "stage"
    name: str = ""  # name: teacher label / models entry; train, load: arch label; stage: row id
    method: str = ""
    cfg_json: str = "{}"
    seed: int | None = None
    path: str = ""
    params_json: str = "{}"
    of: "Source | None" = None
    inputs: tuple[tuple[str, "Source"], ...] = ()
    output: str = ""
    finetune: bool = False  # prune: train the pruned model further as `of` was trained

    def references(self) -> list[tuple[str, str]]:
        """(kind, name) of the models and rows this source refers to, for cycle detection."""
        refs: list[tuple[str, str]] = []
        if self.form == "name":
            refs.append(("model", self.name))
        if self.form == "stage":
            refs.append(("row", self.name))
        for sub in ([self.of] if self.of else []) + [s for _, s in self.inputs]:
            refs.extend(sub.references())
        return refs


def parse_source(raw: Any, where: str, labels: set[str], methods) -> Source:
    """Validate one source; `labels` are the matrix's arch labels (students and teachers)."""
    if isinstance(raw, str):
        return Source("name", name=raw)
    if not isinstance(raw, Mapping):
        raise BenchError(f"{where}: expected a label or a mapping with one of {', '.join(_FORMS)}, got {raw!r}")
    raw = dict(raw)
    output = raw.pop("output", "")
    forms = [k for k in raw if k in _FORMS]
    if len(forms) != 1 or len(raw) != 1:
        extra = sorted(set(raw) - set(_FORMS))
        detail = f"unknown field {extra[0]!r}" if extra else f"exactly one of {', '.join(_FORMS)} is needed"
        raise BenchError(f"{where}: {detail}; valid fields: {', '.join(_FORMS)}, output")
    form, body = forms[0], raw[forms[0]]
    where = f"{where}.{form}"
    if form == "stage":
        if not isinstance(body, str):
            raise BenchError(f"{where}: expected a row id, got {body!r}")
        return Source("stage", name=body, output=str(output))
    if form == "load" and isinstance(body, str):
        from .archs.pretrained import CHECKPOINTS, known

        if known(body) is None:
            raise BenchError(f"{where}: {body!r} is not a known public checkpoint; give {{load: {{arch, path}}}} "
                             f"(known: {', '.join(CHECKPOINTS)})")
        return Source("load", path=body, output=str(output))
    body = _fields(body, where, {"train": {"method", "arch", "cfg", "seed", "inputs"},
                                 "load": {"arch", "path"}, "prune": {"of", "ratio", "criterion", "finetune"}}[form])
    if form == "train":
        method = _need(body, "method", str, where)
        if method not in methods:
            raise BenchError(f"{where}.method: unknown value {method!r}; valid choices: {', '.join(methods.names())}")
        cfg = dict(_mapping(body.get("cfg") or {}, f"{where}.cfg"))
        methods.get(method).Config.from_mapping(cfg, where=f"{where}.cfg")
        inputs = parse_inputs(body.get("inputs") or {}, f"{where}.inputs", labels, methods, method)
        seed = body.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise BenchError(f"{where}.seed: expected an integer, got {seed!r}")
        return Source("train", name=_label(body, where, labels), method=method, cfg_json=canonical_json(cfg),
                      seed=seed, inputs=inputs, output=str(output))
    if form == "load":
        return Source("load", name=_label(body, where, labels), path=str(_need(body, "path", str, where)),
                      output=str(output))
    from .derive import TRANSFORMS

    params = {k: v for k, v in body.items() if k not in ("of", "finetune")}  # finetune: not the pruning's key
    if "ratio" not in params:
        raise BenchError(f"{where}: missing field 'ratio'")
    finetune = body.get("finetune", False)
    if not isinstance(finetune, bool):
        raise BenchError(f"{where}.finetune: expected true or false, got {finetune!r}")
    TRANSFORMS.get("prune")  # registered
    of = parse_source(_need(body, "of", (str, Mapping), where), f"{where}.of", labels, methods)
    return Source("prune", params_json=canonical_json(params), of=of, output=str(output), finetune=finetune)


def parse_inputs(raw: Any, where: str, labels: set[str], methods, method: str) -> tuple[tuple[str, Source], ...]:
    """{role: source} -> sorted (role, Source) pairs; roles are checked against the method."""
    from methods.base import check_roles

    raw = _mapping(raw, where)
    for role in raw:
        if role not in ROLES:
            raise BenchError(f"{where}: unknown input role {role!r}; valid roles: {', '.join(ROLES)}")
    try:
        check_roles(method, methods.get(method), raw)
    except BenchError as exc:
        raise BenchError(f"{where}: {exc}") from None
    return tuple(sorted((str(r), parse_source(v, f"{where}.{r}", labels, methods)) for r, v in raw.items()))


def check_cycles(models: Mapping[str, Source], rows: Mapping[str, tuple[Source, ...]], source: str) -> None:
    """A model or row that (through models and stages) depends on itself is an error."""
    graph: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for name, src in models.items():
        graph[("model", name)] = src.references()
    for row_id, srcs in rows.items():
        graph.setdefault(("row", row_id), []).extend(r for s in srcs for r in s.references())
    state: dict[tuple[str, str], int] = {}

    def visit(node: tuple[str, str], path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = path[path.index(f"{node[0]} {node[1]}"):] + [f"{node[0]} {node[1]}"]
            raise BenchError(f"{source}: cycle in input models: {' -> '.join(cycle)}")
        state[node] = 1
        for nxt in graph.get(node, []):
            visit(nxt, path + [f"{node[0]} {node[1]}"])
        state[node] = 2

    for node in list(graph):
        visit(node, [])


@dataclasses.dataclass(frozen=True)
class Resolver:
    """Turns Sources into model references for one (scale, seed, profile) of a matrix."""

    archs: Mapping[str, ArchSpec]  # resized for the profile
    models: Mapping[str, Source]
    common: Mapping[str, Any]  # scale, profile, train_set
    stage: Callable[[str, int], TrainCell]  # (row id, seed) -> that row's train cell
    teacher_weights: str | None = None

    def ref(self, src: Source, seed: int, role: str = "") -> ModelRef:
        if src.form == "name" and src.name in self.models:  # a named model keeps its own `output:`
            named = self.models[src.name]
            return ModelRef(self._cell(named, seed, role), src.output or named.output)
        return ModelRef(self._cell(src, seed, role), src.output)

    def _cell(self, src: Source, seed: int, role: str):
        if src.form == "name":
            if src.name in self.models:
                return self._cell(self.models[src.name], seed, role)
            return self._named_arch(src.name, role)
        if src.form == "stage":
            return self.stage(src.name, seed)
        if src.form == "load":
            return _load_cell(src, self.archs, self.common["scale"])
        if src.form == "prune":
            source = self.ref(src.of, seed, role) if src.of else None
            ratio = json.loads(src.params_json).get("ratio")
            pruned = DeriveCell("prune", src.params_json, source, label=f"{ratio}")
            return self._finetuned(src.of, pruned, seed, role) if src.finetune else pruned
        inputs = tuple((r, self.ref(s, seed, r)) for r, s in src.inputs)
        return TrainCell(src.method, self.archs[src.name], seed=src.seed if src.seed is not None else 0,
                         cfg_json=src.cfg_json, inputs=inputs, label=src.name, **self.common)

    def _finetuned(self, of: Source, pruned: DeriveCell, seed: int, role: str) -> TrainCell:
        """A train cell that continues `pruned` as `of` was trained: same method, config, seed and
        inputs, `init` = the pruned model, and `of`'s own discriminator where the method takes one."""
        trained = self._cell(self.models.get(of.name, of) if of.form == "name" else of, seed, role)
        if not isinstance(trained, TrainCell):
            raise BenchError(f"prune.finetune: the pruned model must come from a trained model to be trained "
                             f"further as it was; {trained.label!r} is a {trained.kind} cell")
        from methods import METHODS

        inputs = {r: ref for r, ref in trained.inputs if r != "init"}
        inputs["init"] = ModelRef(pruned, "")
        if "discriminator" in METHODS.get(trained.method).accepts and "discriminator" not in inputs:
            inputs["discriminator"] = ModelRef(trained, "discriminator")
        return dataclasses.replace(trained, inputs=tuple(sorted(inputs.items())), label=f"{pruned.label} fine-tuned")

    def _named_arch(self, label: str, role: str):
        arch = self.archs[label]
        if role == "teacher" and self.teacher_weights:  # --teacher-weights FILE (looked up like any checkpoint)
            from .checkpoint_files import find

            arch = dataclasses.replace(arch, weights=str(find(self.teacher_weights) or self.teacher_weights),
                                       label=f"{label} ({Path(self.teacher_weights).name})")
        if arch.weights:
            return LoadCell(arch, self.common["scale"], label=arch.label)
        return TrainCell("baseline", arch, seed=0, label=arch.label, **self.common)


def _load_cell(src: Source, archs: Mapping[str, ArchSpec], scale: int) -> LoadCell:
    """A `load` source: the file found through the weights folders (benchmarks/checkpoint_files.py);
    the short form takes the known checkpoint's arch and options, at its own scale only."""
    from .archs.pretrained import known
    from .checkpoint_files import LOADED, find

    path = str(find(src.path) or src.path)  # a missing file fails in its cell, naming URL and folder
    if src.name:
        return LoadCell(dataclasses.replace(archs[src.name], weights=path), scale, label=src.name)
    ck = known(src.path)
    if ck.scale != scale:
        raise BenchError(f"{{load: {src.path}}} is the x{ck.scale} checkpoint, used in a row at x{scale}; "
                         f"give the row `scales: [{ck.scale}]`")
    stem = Path(src.path).stem
    return LoadCell(ArchSpec.make(stem, ck.arch, dict(ck.options), path), scale, label=f"{stem} ({LOADED})")


def check_names(src: Source, where: str, names: set[str], rows: set[str], labels: set[str]) -> None:
    """Every name a source uses exists: models/teachers, row ids for stages, arch labels."""
    if src.form == "name" and src.name not in names:
        raise BenchError(f"{where}: unknown model {src.name!r}; valid choices: {', '.join(sorted(names)) or 'none'}")
    if src.form == "stage" and src.name not in rows:
        raise BenchError(f"{where}: unknown row id {src.name!r} in stage; valid choices: {', '.join(sorted(rows))}")
    if src.form in ("train", "load") and src.name not in labels and (src.form == "train" or src.name):
        raise BenchError(f"{where}: unknown arch {src.name!r}; valid choices: {', '.join(sorted(labels))}")
    for role, sub in src.inputs:
        check_names(sub, f"{where}.{role}", names, rows, labels)
    if src.of:
        check_names(src.of, f"{where}.of", names, rows, labels)


def _fields(body: Any, where: str, valid: set[str]) -> dict:
    body = dict(_mapping(body, where))
    unknown = set(body) - valid
    if unknown:
        raise BenchError(f"{where}: unknown field {sorted(unknown)[0]!r}; valid fields: {', '.join(sorted(valid))}")
    return body


def _need(body: Mapping, key: str, typ, where: str) -> Any:
    if key not in body:
        raise BenchError(f"{where}: missing field {key!r}")
    if not isinstance(body[key], typ):
        raise BenchError(f"{where}.{key}: unexpected value {body[key]!r}")
    return body[key]


def _label(body: Mapping, where: str, labels: set[str]) -> str:
    label = _need(body, "arch", str, where)
    if label not in labels:
        raise BenchError(f"{where}.arch: unknown arch label {label!r}; valid choices: {', '.join(sorted(labels))}")
    return label


def _mapping(value: Any, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise BenchError(f"{where}: expected a mapping, got {value!r}")
    return value
