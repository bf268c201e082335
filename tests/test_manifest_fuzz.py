"""Hypothesis: arbitrary text and arbitrary YAML trees through the loader never raise, only diagnose."""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bootstrap.manifest.diagnostics import Severity
from bootstrap.manifest.loader import load_text

AS_OF = date(2026, 11, 25)
KEYS = st.sampled_from(
    [
        "version",
        "defaults",
        "projects",
        "project_id",
        "labels",
        "models",
        "model",
        "locations",
        "create",
        "link_billing",
        "billing_account",
        "parent",
        "services",
        "smoke_test",
        "enable",
        "max_tokens",
        "timeout_s",
        "reasoning_effort",
        "display_name",
        "<<",
        "on",
        "x",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "no",
            "on",
            "012",
            "0x1A",
            "12:30",
            "2024-01-02",
            "gpt-oss-120b",
            "global",
            "gpt-oss-20b",
            "folders/1",
            "012345-6789AB-CDEF01",
            "acme-ml-dev",
            "~",
        ]
    ),
)
TREES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=30,
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(text: str) -> None:
    parsed, projects, _, _ = load_text("f.yaml", text, as_of=AS_OF)
    for diagnostic in parsed.diagnostics:
        assert diagnostic.line >= 1 and diagnostic.col >= 1
        assert diagnostic.message
        assert diagnostic.severity in (Severity.ERROR, Severity.WARNING)
    assert isinstance(projects, list)


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    check(text)


@FUZZ
@given(st.text(alphabet="{}[]:-,&*!|>'\"#?%@`\n \tabc01", max_size=200))
def test_yaml_punctuation_never_raises(text: str) -> None:
    check(text)


@FUZZ
@given(TREES)
def test_arbitrary_yaml_trees_never_raise(tree: Any) -> None:
    check(yaml.safe_dump(tree, default_flow_style=False, allow_unicode=True))
    check(yaml.safe_dump(tree, default_flow_style=True))


@FUZZ
@given(
    st.dictionaries(KEYS, TREES, max_size=6),
    st.lists(st.dictionaries(KEYS, TREES, max_size=6), max_size=3),
)
def test_manifest_shaped_trees_never_raise(top: dict[str, Any], projects: list[Any]) -> None:
    check(yaml.safe_dump({"version": 1, **top, "projects": projects}))
