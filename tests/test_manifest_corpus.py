"""Every malformed manifest in tests/data/bad/ exits 1 with its expected FILE:LINE diagnostic.

Each file's first line says what it must produce: `# expect: LINE: substring`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bootstrap.cli import cli

BAD = Path(__file__).parent / "data" / "bad"
CASES = sorted(BAD.glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (\d+): (.+)$")


def test_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 40
    substrings = {EXPECT.match(path.read_text(encoding="utf-8").splitlines()[0]) for path in CASES}
    assert len({match.group(2) for match in substrings if match}) >= 40


@pytest.mark.parametrize("path", CASES, ids=lambda path: path.stem)
def test_bad_manifest_is_rejected_at_its_line(path: Path) -> None:
    header = EXPECT.match(path.read_text(encoding="utf-8").splitlines()[0])
    assert header, f"{path} lacks its '# expect: LINE: substring' header"
    line, substring = header.groups()
    result = CliRunner().invoke(cli, ["validate", str(path), "--as-of", "2026-11-25"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    located = [row for row in result.output.splitlines() if row.startswith(f"{path}:{line}:")]
    assert any(substring in row for row in located), result.output
