"""Manifest files -> `Desired`: safe YAML reading, validation, the defaults merge, and diagnostics.

Reading goes through YAML *events* (libyaml's CSafeLoader parser when available), never through a
constructor, so nothing the file says is ever executed or expanded: tags, anchors, aliases and
merge keys are reported instead of honoured, duplicate keys are caught with both lines, and each
value keeps its line and column. Plain scalars are typed by a deliberately narrow rule (`true`,
`false`, plain decimal numbers, `null`); anything YAML 1.1 would silently turn into a boolean,
octal, hex, sexagesimal number or date (`no`, `on`, `012`, `0x1A`, `12:30`, `2024-01-02`) is kept
as an "ambiguous" value that no field accepts, so the user is told to quote it.

The shape of each file is checked by the strict pydantic models of `bootstrap.manifest`; the
content rules (ids, billing, labels, catalog and lifecycle) are checked here with the catalog date
passed in as `as_of`. Every problem becomes a `Diagnostic`; loading never stops at the first one
and never raises for bad input.

Merge rules: `defaults` apply to the projects of the same file only. Scalars on a project override
the defaults, labels merge key by key (the project wins), a project's `models` replace the default
list, services are the union. `smoke_test` is global: when several files set it, the first file
(in load order: paths as given, directories sorted) wins and later ones get a warning.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bootstrap import catalog
from bootstrap.desired import Desired, DesiredModel, DesiredProject, SmokeSettings
from bootstrap.manifest import (
    LOCATION_RE,
    MAX_LABELS,
    PUBLISHER_MODEL_RE,
    Defaults,
    Manifest,
    ModelSpec,
    Problem,
    ProjectSpec,
    SmokeTest,
    check_display_name,
    check_label,
    check_parent,
    check_project_id,
    check_service,
    normalize_billing_account,
)

MAX_BYTES = 1024 * 1024  # checked before parsing: manifests are small, bombs are not
MAX_DEPTH = 32  # a manifest needs 6 levels; deeper input is an attack or an accident
MANIFEST_SUFFIXES = (".yaml", ".yml")

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
_TAG = "tag:yaml.org,2002:"

Loc = tuple[str | int, ...]
_M = TypeVar("_M", bound="BaseModel")


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """One problem at one place: what is wrong, and how to fix it."""

    file: str
    line: int
    col: int
    message: str
    hint: str = ""
    severity: Severity = Severity.ERROR

    def render(self) -> str:
        level = "warning: " if self.severity is Severity.WARNING else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{self.file}:{self.line}:{self.col}: {level}{self.message}{hint}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult:
    desired: Desired | None  # None when any error was found
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[Path, ...]

    @property
    def ok(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)


# --- reading YAML ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ambiguous:
    """A plain scalar YAML 1.1 would coerce (`no`, `012`, `12:30`, dates): no field accepts it."""

    text: str
    tag: str


class _Invalid:
    """Stands in for a value already diagnosed (alias, tagged node, too deep)."""


@dataclass(frozen=True, slots=True)
class Mark:
    line: int  # 1-based
    col: int  # 1-based


@dataclass(slots=True)
class _Frame:
    container: dict[str, Any] | list[Any]
    loc: Loc
    key: str | None = None
    skip_value: bool = False
    seen: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class ParsedFile:
    """The plain data of one file plus where each value and key came from."""

    file: str
    data: Any = None
    values: dict[Loc, Mark] = field(default_factory=dict)
    keys: dict[Loc, Mark] = field(default_factory=dict)
    texts: dict[Loc, str] = field(default_factory=dict)  # plain scalars' source text
    poisoned: set[Loc] = field(default_factory=set)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def mark(self, loc: Loc, *, key: bool = False) -> Mark:
        """Where `loc` was written; the nearest written ancestor when it was not."""
        table = self.keys if key else self.values
        while loc not in table and loc:
            loc, table = loc[:-1], self.values
        return table.get(loc, Mark(1, 1))

    def error(self, mark: Mark, problem: Problem, severity: Severity = Severity.ERROR) -> None:
        self.diagnostics.append(
            Diagnostic(
                file=self.file,
                line=mark.line,
                col=mark.col,
                message=problem.message,
                hint=problem.hint,
                severity=severity,
            )
        )


def _mark(event: Any) -> Mark:
    return Mark(event.start_mark.line + 1, event.start_mark.column + 1)


def _yaml11_tag(text: str) -> str:
    """The type YAML 1.1 (PyYAML's resolver) gives an unquoted scalar: 'str', 'bool', 'int'..."""
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag.removeprefix(_TAG)


def _plain_value(text: str) -> Any:
    """The narrow typing of an unquoted scalar: only unsurprising readings are kept."""
    tag = _yaml11_tag(text)
    if tag == "str":
        return text
    if tag == "null":
        return None
    if tag == "bool" and text in ("true", "false"):
        return text == "true"
    if tag == "int" and text.lstrip("+-").isdigit() and not _leading_zero(text.lstrip("+-")):
        return int(text)
    if tag == "float" and _plain_float(text):
        return float(text)
    return Ambiguous(text, tag)


def _leading_zero(digits: str) -> bool:
    return len(digits) > 1 and digits.startswith("0")


def _plain_float(text: str) -> bool:
    body = text.lstrip("+-")
    return "_" not in body and ":" not in body and body[:1].isdigit() and body.lower() != "nan"


class _Builder:
    """Turns a stream of YAML events into plain data, reporting what manifests may not use."""

    def __init__(self, parsed: ParsedFile) -> None:
        self.parsed = parsed
        self.stack: list[_Frame] = []
        self.skipping = 0  # depth inside a subtree being discarded
        self.documents = 0

    def feed(self, events: Iterator[Any]) -> None:
        for event in events:
            if self.skipping:
                self._skip(event)
            elif isinstance(event, yaml.DocumentStartEvent):
                self.documents += 1
                if self.documents > 1:
                    self._problem(
                        _mark(event),
                        "a manifest file holds exactly one YAML document; a second one starts here",
                        "split the documents into separate files (or remove the `---` line)",
                    )
                    return
            elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
                self._node(event, None)
            elif isinstance(event, yaml.MappingStartEvent):
                self._node(event, {})
            elif isinstance(event, yaml.SequenceStartEvent):
                self._node(event, [])
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                self.stack.pop()

    def _skip(self, event: Any) -> None:
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self.skipping += 1
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            self.skipping -= 1

    def _problem(self, mark: Mark, message: str, hint: str) -> None:
        self.parsed.error(mark, Problem(message, hint))

    def _node(self, event: Any, container: dict[str, Any] | list[Any] | None) -> None:
        top = self.stack[-1] if self.stack else None
        expects_key = top is not None and isinstance(top.container, dict) and top.key is None
        if top is not None and expects_key and not top.skip_value:
            self._key(top, event)
            return
        valid = self._check_node(event)
        loc = self._place(top, event, container if valid else _Invalid())
        if container is not None:
            if loc is None or not valid:
                self.skipping = 1
            elif len(self.stack) >= MAX_DEPTH:
                self._problem(
                    _mark(event),
                    f"nesting is deeper than {MAX_DEPTH} levels",
                    "a manifest needs only a few levels; check the indentation",
                )
                self.parsed.poisoned.add(loc)
                self.skipping = 1
            else:
                self.stack.append(_Frame(container, loc))

    def _check_node(self, event: Any) -> bool:
        """Report tags, anchors and aliases; False when the node's content must be ignored."""
        mark = _mark(event)
        if isinstance(event, yaml.AliasEvent):
            self._problem(
                mark,
                f"aliases (*{event.anchor}) are not allowed in manifests",
                "write the value out in full; use `defaults` to share values between projects",
            )
            return False
        if event.anchor is not None:
            self._problem(
                mark,
                f"anchors (&{event.anchor}) are not allowed in manifests",
                "remove the anchor; use `defaults` to share values between projects",
            )
        if event.tag is not None:
            self._problem(
                mark,
                f"YAML tags are not allowed (found {event.tag!r})",
                "remove the tag; quote the value if you want text, e.g. '012'",
            )
        return True

    def _key(self, frame: _Frame, event: Any) -> None:
        mark = _mark(event)
        if not isinstance(event, yaml.ScalarEvent):
            self._problem(mark, "mapping keys must be plain names", "write `name: value`")
            self._discard_value(frame, event)
            return
        self._check_node(event)
        text = event.value
        if event.implicit[0] and text == "<<":
            self._problem(
                mark, "merge keys (<<) are not allowed", "write the keys out, or use `defaults`"
            )
            frame.skip_value = True
            return
        if event.implicit[0] and not isinstance(_plain_value(text), str):
            self._problem(
                mark,
                f"key {text!r} is read by YAML 1.1 as a {_reading(text)}, not as text",
                f"quote it: '{text}'",
            )
        first = frame.seen.get(text)
        if first is not None:
            self._problem(
                mark,
                f"duplicate key {text!r} on lines {first} and {mark.line}",
                "remove one of them; YAML would silently keep only the last",
            )
            frame.skip_value = True
            return
        frame.seen[text] = mark.line
        frame.key = text
        self.parsed.keys[(*frame.loc, text)] = mark

    def _discard_value(self, frame: _Frame, event: Any) -> None:
        frame.skip_value = True
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self.skipping = 1

    def _place(self, top: _Frame | None, event: Any, value: Any) -> Loc | None:
        """Store a value under its parent; its loc, or None when it is discarded."""
        if isinstance(event, yaml.ScalarEvent) and not isinstance(value, _Invalid):
            value = _plain_value(event.value) if event.implicit[0] else event.value
        if top is None:
            loc: Loc = ()
            self.parsed.data = value
        elif isinstance(top.container, list):
            loc = (*top.loc, len(top.container))
            top.container.append(value)
        elif top.skip_value:
            top.skip_value = False
            return None
        else:
            assert top.key is not None
            loc = (*top.loc, top.key)
            top.container[top.key] = value
            top.key = None
        self.parsed.values[loc] = _mark(event)
        if isinstance(event, yaml.ScalarEvent) and event.implicit[0]:
            self.parsed.texts[loc] = event.value
        if isinstance(value, _Invalid):
            self.parsed.poisoned.add(loc)
        return loc


def _reading(text: str) -> str:
    """What YAML 1.1 makes of a plain scalar, in words: 'boolean (False)', 'int (10)'."""
    tag = _yaml11_tag(text)
    try:
        value = yaml.load(text, Loader=_Loader)
    except (yaml.YAMLError, ValueError, OverflowError):
        return tag
    names = {"bool": "boolean", "int": "number", "float": "number", "timestamp": "date"}
    return f"{names.get(tag, tag)} ({value})"


def read_yaml(file: str, text: str) -> ParsedFile:
    """Parse one manifest's text into plain data with positions; problems go to `diagnostics`."""
    parsed = ParsedFile(file)
    builder = _Builder(parsed)
    try:
        builder.feed(yaml.parse(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = f"{error.context + ', ' if error.context else ''}{error.problem or 'invalid'}"
        if error.context_mark and mark and error.context_mark.line != mark.line:
            problem += f" (the construct began on line {error.context_mark.line + 1})"
        parsed.error(Mark(line, col), Problem(f"YAML syntax error: {problem}", _syntax_hint()))
        parsed.poisoned.add(())
    except yaml.YAMLError as error:
        position = getattr(error, "position", 0) or 0
        line = text.count("\n", 0, position) + 1
        parsed.error(Mark(line, 1), Problem(f"cannot read YAML: {error}", _syntax_hint()))
        parsed.poisoned.add(())
    except RecursionError:
        parsed.error(Mark(1, 1), Problem("nesting is too deep to read", "flatten the file"))
        parsed.poisoned.add(())
    if builder.documents == 0 and not parsed.diagnostics:
        parsed.error(Mark(1, 1), Problem("the file is empty", "start it with `version: 1`"))
        parsed.poisoned.add(())
    return parsed


def _syntax_hint() -> str:
    return "check indentation, colons and quotes near this line"


# --- pydantic errors -> diagnostics ------------------------------------------------------------

_MODELS_BY_PLACE: dict[str, type[BaseModel]] = {
    "": Manifest,
    "defaults": Defaults,
    "smoke_test": SmokeTest,
    "projects": ProjectSpec,
    "defaults.models": ModelSpec,
    "projects.models": ModelSpec,
}
_EXPECTED = {
    "string_type": "text",
    "bool_type": "true or false",
    "int_type": "a whole number",
    "float_type": "a number",
    "dict_type": "a mapping of names to values",
    "model_type": "a mapping of names to values",
    "model_attributes_type": "a mapping of names to values",
    "list_type": "a list",
}


def show_loc(loc: Loc) -> str:
    """`projects[2].labels.env` for ('projects', 2, 'labels', 'env')."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "the file"


def _place_name(loc: Loc) -> str:
    return ".".join(str(part) for part in loc if isinstance(part, str))


def _unknown_key(loc: Loc) -> Problem:
    key = str(loc[-1])
    model = _MODELS_BY_PLACE.get(_place_name(loc[:-1]))
    known = sorted(model.model_fields) if model else []
    where = show_loc(loc[:-1])
    message = f"unknown key {key!r} in {where}"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return Problem(message, f"did you mean {close[0]!r}?")
    if model is Defaults and key in ("project_id", "display_name"):
        return Problem(f"{key} cannot be a default", "set it on each project")
    if model is Manifest and key in ProjectSpec.model_fields:
        return Problem(message, f"{key} belongs under `defaults:` or a project")
    return Problem(message, "allowed keys: " + ", ".join(known))


def _type_problem(parsed: ParsedFile, loc: Loc, kind: str, value: Any) -> Problem:
    where, expected = show_loc(loc), _EXPECTED[kind]
    if isinstance(value, Ambiguous):
        reading = _reading(value.text)
        if kind == "string_type":
            return Problem(
                f"{where}: {value.text!r} is read by YAML 1.1 as a {reading}, not as text",
                f"quote it: '{value.text}'",
            )
        return Problem(
            f"{where} must be {expected}, but {value.text!r} is read by YAML 1.1 as a {reading}",
            "write true or false" if kind == "bool_type" else "write a plain decimal number",
        )
    text = parsed.texts.get(loc)
    if value is None:
        return Problem(f"{where} is empty; it must be {expected}", "give a value or remove the key")
    if kind == "string_type" and text is not None:
        return Problem(
            f"{where} must be text, but {text} is read as {value!r}", f"quote it: '{text}'"
        )
    if isinstance(value, str):
        got = f"the text {value!r}"
        hint = "remove the quotes" if kind in ("bool_type", "int_type", "float_type") else ""
        return Problem(f"{where} must be {expected}, not {got}", hint or f"write {expected}")
    got = (
        "a mapping"
        if isinstance(value, dict)
        else "a list"
        if isinstance(value, list)
        else repr(value)
    )
    return Problem(f"{where} must be {expected}, not {got}", f"write {expected}")


def _bound_problem(where: str, kind: str, ctx: dict[str, Any], value: Any) -> Problem | None:
    if kind == "greater_than_equal":
        return Problem(
            f"{where} must be at least {ctx['ge']}, not {value!r}", f"use {ctx['ge']} or more"
        )
    if kind == "greater_than":
        return Problem(
            f"{where} must be more than {ctx['gt']}, not {value!r}", "use a positive number"
        )
    if kind in ("too_short", "string_too_short"):
        what = "text" if kind == "string_too_short" else "list"
        return Problem(f"{where} is an empty {what}", "give at least one value")
    return None


def _pydantic_problem(parsed: ParsedFile, error: Any) -> tuple[Mark, Problem]:
    loc: Loc = tuple(part for part in error["loc"] if part != "[key]")
    kind, where = error["type"], show_loc(loc)
    if kind == "extra_forbidden":
        return parsed.mark(loc, key=True), _unknown_key(loc)
    if kind == "missing":
        hint = "add `version: 1` as the first line" if loc == ("version",) else f"add {loc[-1]}:"
        return parsed.mark(loc[:-1]), Problem(f"{show_loc(loc[:-1])} needs {loc[-1]!r}", hint)
    if kind in _EXPECTED:
        return parsed.mark(loc), _type_problem(parsed, loc, kind, error["input"])
    if loc == ("version",):
        value = error["input"]
        return parsed.mark(loc), Problem(f"unsupported manifest version {value}", "use version: 1")
    bound = _bound_problem(where, kind, error.get("ctx") or {}, error["input"])
    if bound is not None:
        return parsed.mark(loc), bound
    if kind == "literal_error":
        expected = error["ctx"]["expected"]
        return parsed.mark(loc), Problem(f"{where} must be one of {expected}", f"use {expected}")
    message = error["msg"][0].lower() + error["msg"][1:]
    return parsed.mark(loc), Problem(f"{where}: {message}", "see manifest.schema.json")


def check_shape(parsed: ParsedFile) -> Manifest | None:
    """Validate the whole file against the manifest models; report what they reject."""
    try:
        return Manifest.model_validate(parsed.data)
    except ValidationError as errors:
        for error in errors.errors():
            loc = tuple(error["loc"])
            if any(loc[:n] in parsed.poisoned for n in range(len(loc) + 1)):
                continue  # already reported, e.g. an alias or a tag
            mark, problem = _pydantic_problem(parsed, error)
            parsed.error(mark, problem)
    return None


# --- content rules -----------------------------------------------------------------------------


def _salvage(model: type[_M], raw: Any) -> tuple[_M | None, bool]:
    """The part of `raw` that validates, and whether that was all of it.

    Keys whose values the shape check rejected (already reported) are dropped so the content rules
    still run on the rest: one typo should not hide the other problems of a project.
    """
    try:
        return model.model_validate(raw), True
    except ValidationError as errors:
        if not isinstance(raw, dict):
            return None, False
        bad = {error["loc"][0] for error in errors.errors() if error["loc"]}
        if bad & {name for name, info in model.model_fields.items() if info.is_required()}:
            return None, False
        kept = {key: value for key, value in raw.items() if key not in bad}
        try:
            return model.model_validate(kept), False
        except ValidationError:
            return None, False


@dataclass(frozen=True, slots=True)
class _Fields:
    """The checked values of a defaults block or a project entry, as written there."""

    billing_account: str | None = None
    models: tuple[DesiredModel, ...] | None = None


def _current_aliases(as_of: date) -> str:
    usable = [
        m.alias for m in catalog.CATALOG if m.lifecycle(as_of) is not catalog.Lifecycle.RETIRED
    ]
    return ", ".join(usable)


def _unlisted_model(
    parsed: ParsedFile, spec: ModelSpec, loc: Loc, as_of: date
) -> DesiredModel | None:
    """A model the catalog does not know: a full publisher name is accepted with a warning."""
    mark = parsed.mark((*loc, "model"))
    found = PUBLISHER_MODEL_RE.match(spec.model)
    if found is None:
        known = catalog.aliases()
        close = difflib.get_close_matches(spec.model, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"use one of {_current_aliases(as_of)}"
        parsed.error(mark, Problem(f"model {spec.model!r} is not in the catalog", hint))
        return None
    parsed.error(
        mark,
        Problem(
            f"model {spec.model!r} is not in the catalog; its locations and lifecycle cannot be "
            "checked",
            f"prefer a catalog alias ({_current_aliases(as_of)}) when one fits",
        ),
        Severity.WARNING,
    )
    for index, location in enumerate(spec.locations):
        if not LOCATION_RE.match(location):
            parsed.error(
                parsed.mark((*loc, "locations", index)),
                Problem(f"{location!r} is not a location name", "e.g. global or us-central1"),
            )
    return DesiredModel(
        ref=spec.model,
        alias=found[2],
        publisher_model=spec.model,
        request_model=f"{found[1]}/{found[2]}",
        locations=tuple(dict.fromkeys(spec.locations)),
        enable=spec.enable,
        in_catalog=False,
    )


def _resolve_model(
    parsed: ParsedFile, spec: ModelSpec, loc: Loc, as_of: date
) -> DesiredModel | None:
    """The catalog entry for a model reference, with its lifecycle and locations checked."""
    entry = catalog.lookup(spec.model)
    if entry is None:
        return _unlisted_model(parsed, spec, loc, as_of)
    mark = parsed.mark((*loc, "model"))
    state = entry.lifecycle(as_of)
    if state is catalog.Lifecycle.RETIRED:
        hint = f"switch to a current model: {_current_aliases(as_of)}"
        parsed.error(mark, Problem(f"model {spec.model!r}: {entry.lifecycle_note(as_of)}", hint))
        return None
    if state is catalog.Lifecycle.DEPRECATED:
        hint = f"plan the switch before {entry.retired_on}" if entry.retired_on else ""
        note = Problem(f"model {spec.model!r}: {entry.lifecycle_note(as_of)}", hint)
        parsed.error(mark, note, Severity.WARNING)
    seen: set[str] = set()
    for index, location in enumerate(spec.locations):
        where = parsed.mark((*loc, "locations", index))
        if location in seen:
            parsed.error(where, Problem(f"location {location!r} is listed twice", "remove one"))
        elif location not in entry.locations:
            offered = ", ".join(entry.locations)
            message = f"{entry.alias} is not offered in location {location!r}"
            parsed.error(where, Problem(message, f"use one of: {offered}"))
        seen.add(location)
    return DesiredModel(
        ref=spec.model,
        alias=entry.alias,
        publisher_model=entry.publisher_model,
        request_model=entry.request_model,
        locations=tuple(spec.locations),
        enable=spec.enable,
    )


def _resolve_models(
    parsed: ParsedFile, specs: list[ModelSpec], loc: Loc, as_of: date
) -> tuple[DesiredModel, ...]:
    models: dict[str, DesiredModel] = {}
    for index, spec in enumerate(specs):
        model = _resolve_model(parsed, spec, (*loc, index), as_of)
        if model is None:
            continue
        if model.publisher_model in models:
            message = f"model {spec.model!r} is listed twice in {show_loc(loc)}"
            hint = "list it once with all its locations"
            parsed.error(parsed.mark((*loc, index, "model")), Problem(message, hint))
            continue
        models[model.publisher_model] = model
    return tuple(models.values())


def _check_fields(parsed: ParsedFile, spec: Defaults, loc: Loc, as_of: date) -> _Fields:
    """Rules that apply to a value where it is written, in defaults or on a project."""
    billing = None
    if spec.billing_account is not None:
        billing, problem = normalize_billing_account(spec.billing_account)
        if problem:
            parsed.error(parsed.mark((*loc, "billing_account")), problem)
    if spec.parent is not None and (problem := check_parent(spec.parent)):
        parsed.error(parsed.mark((*loc, "parent")), problem)
    labels = spec.labels or {}
    for key, value in labels.items():
        if problem := check_label(key, value):
            parsed.error(parsed.mark((*loc, "labels", key), key=True), problem)
    if len(labels) > MAX_LABELS:
        message = f"{len(labels)} labels in {show_loc(loc)}; Google allows at most {MAX_LABELS}"
        parsed.error(parsed.mark((*loc, "labels")), Problem(message, "remove some"))
    for index, service in enumerate(spec.services or []):
        if problem := check_service(service):
            parsed.error(parsed.mark((*loc, "services", index)), problem)
    models = None
    if spec.models is not None:
        models = _resolve_models(parsed, spec.models, (*loc, "models"), as_of)
    return _Fields(billing, models)


def _pick(*values: bool | None) -> bool:
    return next((value for value in values if value is not None), False)


@dataclass(frozen=True, slots=True)
class _FileDefaults:
    spec: Defaults
    fields: _Fields
    trusted: bool  # False when the defaults or the project had shape errors: skip merged rules


def _merge_project(
    parsed: ParsedFile, spec: ProjectSpec, loc: Loc, defaults: _FileDefaults, as_of: date
) -> DesiredProject:
    """Apply the file's defaults to one project and check the rules that need the merged values."""
    own = _check_fields(parsed, spec, loc, as_of)
    base = defaults.spec
    create = _pick(spec.create, base.create)
    link_billing = _pick(spec.link_billing, base.link_billing)
    billing = (
        own.billing_account if spec.billing_account is not None else defaults.fields.billing_account
    )
    parent = spec.parent if spec.parent is not None else base.parent
    labels = {**(base.labels or {}), **(spec.labels or {})}
    if problem := check_project_id(spec.project_id, create=create):
        parsed.error(parsed.mark((*loc, "project_id")), problem)
    if defaults.trusted:
        _check_merged(
            parsed,
            spec,
            loc,
            billing=billing,
            parent=parent,
            create=create,
            link_billing=link_billing,
            labels=labels,
        )
    models = own.models if own.models is not None else defaults.fields.models or ()
    services = dict.fromkeys([*(base.services or []), *(spec.services or [])])
    mark = parsed.mark((*loc, "project_id"))
    return DesiredProject(
        project_id=spec.project_id,
        display_name=spec.display_name,
        create=create,
        link_billing=link_billing,
        billing_account=billing,
        parent=parent,
        labels=labels,
        extra_services=tuple(services),
        models=models,
        source=f"{parsed.file}:{mark.line}",
    )


def _check_merged(
    parsed: ParsedFile,
    spec: ProjectSpec,
    loc: Loc,
    *,
    billing: str | None,
    parent: str | None,
    create: bool,
    link_billing: bool,
    labels: dict[str, str],
) -> None:
    name = spec.project_id
    if link_billing and billing is None:
        parsed.error(
            parsed.mark((*loc, "link_billing")),
            Problem(
                f"project {name!r} has link_billing: true but no billing_account",
                "set billing_account on the project or in defaults, or set link_billing: false",
            ),
        )
    if create and parent is None:
        parsed.error(
            parsed.mark((*loc, "create")),
            Problem(
                f"project {name!r} has create: true but no parent to create it under",
                "set parent: folders/NUMBER or organizations/NUMBER on the project or in defaults",
            ),
        )
    if (
        create
        and spec.display_name is not None
        and (problem := check_display_name(spec.display_name))
    ):
        parsed.error(parsed.mark((*loc, "display_name")), problem)
    if len(labels) > MAX_LABELS and len(spec.labels or {}) <= MAX_LABELS:
        message = (
            f"project {name!r} has {len(labels)} labels with the defaults; at most {MAX_LABELS}"
        )
        parsed.error(parsed.mark((*loc, "labels")), Problem(message, "remove some"))


def _file_projects(parsed: ParsedFile, as_of: date) -> list[tuple[DesiredProject, Mark]]:
    """Every project of one file that is well-formed enough to merge and check."""
    data = parsed.data if isinstance(parsed.data, dict) else {}
    raw_defaults = data.get("defaults") or {}
    spec, trusted = _salvage(Defaults, raw_defaults)
    spec = spec or Defaults()
    defaults = _FileDefaults(spec, _check_fields(parsed, spec, ("defaults",), as_of), trusted)
    raw_projects = data.get("projects")
    projects = []
    for index, raw in enumerate(raw_projects if isinstance(raw_projects, list) else []):
        project, clean = _salvage(ProjectSpec, raw)
        if project is not None:
            trust = _FileDefaults(defaults.spec, defaults.fields, defaults.trusted and clean)
            loc = ("projects", index)
            merged = _merge_project(parsed, project, loc, trust, as_of)
            projects.append((merged, parsed.mark((*loc, "project_id"))))
    return projects


def _smoke(parsed: ParsedFile) -> SmokeSettings | None:
    data = parsed.data if isinstance(parsed.data, dict) else {}
    spec, _ = _salvage(SmokeTest, data.get("smoke_test") or {})
    if spec is None:
        return None
    return SmokeSettings(
        enabled=spec.enabled,
        prompt=spec.prompt,
        max_tokens=spec.max_tokens,
        reasoning_effort=spec.reasoning_effort,
        timeout_s=float(spec.timeout_s),
    )


# --- files -------------------------------------------------------------------------------------


def _file_diagnostic(path: Path | str, message: str, hint: str) -> Diagnostic:
    return Diagnostic(file=str(path), line=1, col=1, message=message, hint=hint)


def _expand(paths: Sequence[str | Path]) -> tuple[list[Path], list[Diagnostic]]:
    files: dict[Path, None] = {}
    problems = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                candidate
                for candidate in path.rglob("*")
                if candidate.suffix in MANIFEST_SUFFIXES
                and candidate.is_file()
                and not any(part.startswith(".") for part in candidate.relative_to(path).parts)
            )
            if not found:
                problems.append(
                    _file_diagnostic(
                        path,
                        "no *.yaml or *.yml manifest in this directory",
                        "point at a manifest file or a directory that holds some",
                    )
                )
            files.update(dict.fromkeys(found))
        elif path.exists():
            files[path] = None
        else:
            problems.append(_file_diagnostic(path, "no such file or directory", "check the path"))
    return list(files), problems


def expand_paths(paths: Sequence[str | Path]) -> list[Path]:
    """The manifest files named by `paths`: files as given, and every *.yaml/*.yml below each
    directory (sorted, dot-folders skipped). Use `load_manifests` to also get the problems."""
    return _expand(paths)[0]


def read_manifest_text(path: Path) -> tuple[str | None, Diagnostic | None]:
    """The file's text, refusing files over MAX_BYTES before reading them into the parser."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return None, _file_diagnostic(
                path,
                f"the file is {size} bytes; manifests are limited to {MAX_BYTES} (1 MiB)",
                "split it into several manifests",
            )
        raw = path.read_bytes()[: MAX_BYTES + 1]
    except OSError as error:
        return None, _file_diagnostic(path, f"cannot read the file: {error.strerror}", "check it")
    if len(raw) > MAX_BYTES:
        return None, _file_diagnostic(path, "the file grew past 1 MiB while reading", "split it")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        diagnostic = Diagnostic(
            file=str(path),
            line=line,
            col=1,
            message="the file is not valid UTF-8",
            hint="save it as UTF-8",
        )
        return None, diagnostic


def load_text(
    file: str, text: str, *, as_of: date
) -> tuple[ParsedFile, list[tuple[DesiredProject, Mark]], SmokeSettings | None, bool]:
    """Read and check one manifest's text: (parsed, projects, smoke settings, sets smoke_test?)."""
    parsed = read_yaml(file, text)
    if () in parsed.poisoned:
        return parsed, [], None, False
    check_shape(parsed)
    projects = _file_projects(parsed, as_of)
    sets_smoke = isinstance(parsed.data, dict) and "smoke_test" in parsed.data
    return parsed, projects, _smoke(parsed) if sets_smoke else None, sets_smoke


def load_manifests(paths: Sequence[str | Path], *, as_of: date) -> LoadResult:
    """Load, merge and check manifests. `as_of` is the catalog date (pass catalog.today_utc())."""
    files, diagnostics = _expand(paths)
    projects: list[DesiredProject] = []
    first_seen: dict[str, str] = {}
    smoke: SmokeSettings | None = None
    smoke_source: str | None = None
    for path in files:
        text, problem = read_manifest_text(path)
        if text is None:
            diagnostics.extend([problem] if problem else [])
            continue
        parsed, found, file_smoke, sets_smoke = load_text(str(path), text, as_of=as_of)
        if sets_smoke:
            where = parsed.mark(("smoke_test",), key=True)
            if smoke_source is None:
                smoke, smoke_source = file_smoke, f"{path}:{where.line}"
            else:
                parsed.error(
                    where,
                    Problem(
                        f"smoke_test is ignored here: {smoke_source} set it first",
                        "keep smoke_test in one manifest",
                    ),
                    Severity.WARNING,
                )
        for project, mark in found:
            earlier = first_seen.setdefault(project.project_id, project.source)
            if earlier != project.source:
                parsed.error(
                    mark,
                    Problem(
                        f"project {project.project_id!r} is also declared at {earlier}",
                        "declare each project once across all manifests",
                    ),
                )
        projects.extend(project for project, _ in found)
        diagnostics.extend(sorted(parsed.diagnostics, key=lambda d: (d.line, d.col)))
    result = LoadResult(desired=None, diagnostics=tuple(diagnostics), files=tuple(files))
    if not result.ok or not files:
        return result
    desired = Desired(
        projects=tuple(projects),
        smoke=smoke or SmokeSettings(),
        sources=tuple(str(path) for path in files),
    )
    return LoadResult(desired=desired, diagnostics=result.diagnostics, files=result.files)
