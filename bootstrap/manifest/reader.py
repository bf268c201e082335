"""The safe YAML reader: one manifest's text -> plain data with the line and column of every value.

Reading goes through YAML *events* (libyaml's CSafeLoader parser when available), never through a
constructor, so nothing the file says is ever executed or expanded: tags, anchors, aliases and
merge keys are reported instead of honoured, duplicate keys are caught with both lines, and each
value keeps its line and column. Plain scalars are typed by a deliberately narrow rule (`true`,
`false`, plain decimal numbers, `null`); anything YAML 1.1 would silently turn into a boolean,
octal, hex, sexagesimal number or date (`no`, `on`, `012`, `0x1A`, `12:30`, `2024-01-02`) is kept
as an "ambiguous" value that no field accepts, so the user is told to quote it. This module owns
`read_yaml`, `ParsedFile` (data, positions, diagnostics), `Mark`, `Ambiguous` and those YAML 1.1
plain-scalar rules; it knows nothing of the manifest's fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from bootstrap.manifest.diagnostics import Diagnostic, Severity
from bootstrap.manifest.schema import Problem

MAX_DEPTH = 32  # a manifest needs 6 levels; deeper input is an attack or an accident

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
_TAG = "tag:yaml.org,2002:"

Loc = tuple[str | int, ...]


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
                f"key {text!r} is read by YAML 1.1 as a {yaml11_reading(text)}, not as text",
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


def yaml11_reading(text: str) -> str:
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
