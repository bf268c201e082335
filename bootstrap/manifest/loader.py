"""Manifest files -> `Desired`: the files, the content rules and the defaults merge.

Each file is read by `bootstrap.manifest.reader` (safe YAML events, positions, YAML 1.1 traps) and its
shape checked by `bootstrap.manifest.shape_errors` (the strict pydantic models of `bootstrap.manifest.schema`,
rejections turned into diagnostics); the content rules (ids, billing, labels, and through
`bootstrap.manifest.model_refs` catalog and lifecycle) are checked here with the catalog date passed in as
`as_of`. Every problem becomes a
`Diagnostic`; loading never stops at the first one and never raises for bad input.

Merge rules: `defaults` apply to the projects of the same file only. Scalars on a project override
the defaults, labels merge key by key (the project wins), a project's `models` replace the default
list, services and principals are the union. `smoke_test` is global: when several files set it, the first file
(in load order: paths as given, directories sorted) wins and later ones get a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bootstrap.manifest.desired import Desired, DesiredModel, DesiredProject, SmokeSettings
from bootstrap.manifest.diagnostics import Diagnostic, Severity
from bootstrap.manifest.model_refs import resolve_models
from bootstrap.manifest.reader import Loc, Mark, ParsedFile, read_yaml
from bootstrap.manifest.schema import (
    DEFAULT_PRINCIPAL_ROLE,
    MAX_LABELS,
    Defaults,
    Problem,
    ProjectSpec,
    SmokeTest,
    check_display_name,
    check_label,
    check_parent,
    check_principal,
    check_principal_role,
    check_project_id,
    check_service,
    check_smoke_as,
    normalize_billing_account,
)
from bootstrap.manifest.shape_errors import check_shape, show_loc

MAX_BYTES = 1024 * 1024  # checked before parsing: manifests are small, bombs are not
MANIFEST_SUFFIXES = (".yaml", ".yml")

_M = TypeVar("_M", bound="BaseModel")


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult:
    desired: Desired | None  # None when any error was found
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[Path, ...]

    @property
    def ok(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)


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
    _check_principals(parsed, spec, loc)
    models = None
    if spec.models is not None:
        models = resolve_models(parsed, spec.models, (*loc, "models"), as_of)
    return _Fields(billing, models)


def _check_principals(parsed: ParsedFile, spec: Defaults, loc: Loc) -> None:
    for index, member in enumerate(spec.principals or []):
        if problem := check_principal(member):
            parsed.error(parsed.mark((*loc, "principals", index)), problem)
    if spec.principal_role is not None and (problem := check_principal_role(spec.principal_role)):
        parsed.error(parsed.mark((*loc, "principal_role")), problem)


def _union(base: list[str] | None, own: list[str] | None) -> tuple[str, ...]:
    """The defaults' list then the project's, without repeats."""
    return tuple(dict.fromkeys([*(base or []), *(own or [])]))


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
    principals = _union(base.principals, spec.principals)
    smoke_as = _smoke_as(parsed, spec, loc, defaults, principals)
    if problem := check_project_id(spec.project_id, create=create):
        parsed.error(parsed.mark((*loc, "project_id")), problem)
    project = DesiredProject(
        project_id=spec.project_id,
        display_name=spec.display_name,
        create=create,
        link_billing=link_billing,
        billing_account=billing,
        parent=parent,
        labels=labels,
        extra_services=_union(base.services, spec.services),
        models=own.models if own.models is not None else defaults.fields.models or (),
        principals=principals,
        principal_role=spec.principal_role or base.principal_role or DEFAULT_PRINCIPAL_ROLE,
        smoke_as=smoke_as,
        source=f"{parsed.file}:{parsed.mark((*loc, 'project_id')).line}",
    )
    if defaults.trusted:
        _check_merged(parsed, spec, loc, project)
    return project


def _smoke_as(
    parsed: ParsedFile,
    spec: ProjectSpec,
    loc: Loc,
    defaults: _FileDefaults,
    principals: tuple[str, ...],
) -> str | None:
    """The project's `smoke_as` (its own, else the defaults'), checked against its principals."""
    smoke_as = spec.smoke_as or defaults.spec.smoke_as
    if smoke_as and defaults.trusted and (problem := check_smoke_as(smoke_as, principals)):
        where = (*loc, "smoke_as") if spec.smoke_as else ("defaults", "smoke_as")
        parsed.error(parsed.mark(where), problem)
    return smoke_as


def _check_merged(parsed: ParsedFile, spec: ProjectSpec, loc: Loc, project: DesiredProject) -> None:
    """The rules that hold only once the defaults are merged in (`project`), reported at `spec`."""
    name = spec.project_id
    if project.link_billing and project.billing_account is None:
        parsed.error(
            parsed.mark((*loc, "link_billing")),
            Problem(
                f"project {name!r} has link_billing: true but no billing_account",
                "set billing_account on the project or in defaults, or set link_billing: false",
            ),
        )
    if project.create and project.parent is None:
        parsed.error(
            parsed.mark((*loc, "create")),
            Problem(
                f"project {name!r} has create: true but no parent to create it under",
                "set parent: folders/NUMBER or organizations/NUMBER on the project or in defaults",
            ),
        )
    if (
        project.create
        and spec.display_name is not None
        and (problem := check_display_name(spec.display_name))
    ):
        parsed.error(parsed.mark((*loc, "display_name")), problem)
    labels = project.labels  # the defaults' and the project's own
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
    """The file's text, refusing sources over MAX_BYTES.

    At most MAX_BYTES + 1 bytes are read, whatever the source says its size is: /dev/zero, a
    pipe or a file still growing has no honest size, and reading it whole would exhaust memory.
    """
    try:
        with path.open("rb") as source:
            raw = source.read(MAX_BYTES + 1)
    except OSError as error:
        return None, _file_diagnostic(path, f"cannot read the file: {error.strerror}", "check it")
    if len(raw) > MAX_BYTES:
        return None, _file_diagnostic(
            path,
            f"the file is larger than {MAX_BYTES} bytes; manifests are limited to 1 MiB",
            "split it into several manifests",
        )
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
    smoke = _SmokeChoice()
    for path in files:
        text, problem = read_manifest_text(path)
        if text is None:
            diagnostics.extend([problem] if problem else [])
            continue
        parsed, found, file_smoke, sets_smoke = load_text(str(path), text, as_of=as_of)
        if sets_smoke:
            smoke.offer(parsed, path, file_smoke)
        _flag_duplicates(parsed, found, first_seen)
        projects.extend(project for project, _ in found)
        diagnostics.extend(sorted(parsed.diagnostics, key=lambda d: (d.line, d.col)))
    result = LoadResult(desired=None, diagnostics=tuple(diagnostics), files=tuple(files))
    if not result.ok or not files:
        return result
    desired = Desired(
        projects=tuple(projects),
        smoke=smoke.settings or SmokeSettings(),
        sources=tuple(str(path) for path in files),
    )
    return LoadResult(desired=desired, diagnostics=result.diagnostics, files=result.files)


@dataclass(slots=True)
class _SmokeChoice:
    """The first manifest that sets smoke_test wins; later ones get a warning naming it."""

    settings: SmokeSettings | None = None
    source: str | None = None

    def offer(self, parsed: ParsedFile, path: Path, settings: SmokeSettings | None) -> None:
        where = parsed.mark(("smoke_test",), key=True)
        if self.source is None:
            self.settings, self.source = settings, f"{path}:{where.line}"
            return
        parsed.error(
            where,
            Problem(
                f"smoke_test is ignored here: {self.source} set it first",
                "keep smoke_test in one manifest",
            ),
            Severity.WARNING,
        )


def _flag_duplicates(
    parsed: ParsedFile, found: list[tuple[DesiredProject, Mark]], first_seen: dict[str, str]
) -> None:
    """An error on each project already declared in an earlier place of any manifest."""
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
