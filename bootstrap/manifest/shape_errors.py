"""Pydantic validation errors -> manifest diagnostics in the user's words.

`check_shape` validates one read file against the strict models of `bootstrap.manifest.schema` and turns
each rejection into a `Problem` placed at the line and column the YAML reader recorded: unknown
keys get a "did you mean" from the model's fields, type errors say how YAML 1.1 read the value and
how to quote it, and values already reported by the reader (aliases, tags) are not reported
twice. This module owns that translation and `show_loc`, the dotted name of a place in a file.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from bootstrap.manifest.reader import Ambiguous, Loc, Mark, ParsedFile, yaml11_reading
from bootstrap.manifest.schema import Defaults, Manifest, ModelSpec, Problem, ProjectSpec, SmokeTest

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
        reading = yaml11_reading(value.text)
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
    if isinstance(value, dict | list):
        # Show the value, not only where it is: `{Team: ML}` is a mapping to YAML, which a
        # person meaning text does not see from "not a mapping" alone.
        shown = _flow(value)
        got = f"the {'mapping' if isinstance(value, dict) else 'list'} {shown}"
        hint = f"quote it if it is text: '{shown}'" if kind == "string_type" else ""
        return Problem(f"{where} must be {expected}, not {got}", hint or f"write {expected}")
    return Problem(f"{where} must be {expected}, not {value!r}", f"write {expected}")


# The longest value shown in a message; a longer one is cut with "...".
MAX_SHOWN = 60


def _flow(value: Any) -> str:
    """A mapping or list as YAML flow text, as it was probably written: `{Team: ML}`."""

    def text(item: Any) -> str:
        if isinstance(item, dict):
            return "{" + ", ".join(f"{text(k)}: {text(v)}" for k, v in item.items()) + "}"
        if isinstance(item, list):
            return "[" + ", ".join(text(v) for v in item) + "]"
        if isinstance(item, Ambiguous):
            return item.text
        return "null" if item is None else str(item)

    shown = text(value)
    return shown if len(shown) <= MAX_SHOWN else shown[: MAX_SHOWN - 3] + "..."


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
