"""Model references in a manifest -> catalog entries, with lifecycle and locations checked.

A project's (or the defaults') `models` list names catalog aliases or full publisher model names.
This module owns resolving each one against `bootstrap.catalog` as of the catalog date: retired
models are errors, deprecated ones warnings, unknown aliases get a "did you mean", a publisher
name outside the catalog is accepted with a warning, and every location is checked against the
ones the model is offered in. Problems go to the file's `ParsedFile`; nothing here raises.
"""

from __future__ import annotations

import difflib
from datetime import date

from bootstrap import catalog
from bootstrap.manifest.desired import DesiredModel
from bootstrap.manifest.diagnostics import Severity
from bootstrap.manifest.reader import Loc, ParsedFile
from bootstrap.manifest.schema import LOCATION_RE, PUBLISHER_MODEL_RE, ModelSpec, Problem
from bootstrap.manifest.shape_errors import show_loc


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
        min_tokens_per_minute=spec.min_tokens_per_minute,
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
        min_tokens_per_minute=spec.min_tokens_per_minute,
    )


def resolve_models(
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
