"""Golden-file comparison: `UPDATE_GOLDEN=1 pytest tests/report` rewrites the files instead.

Review the diff of tests/report/golden/ after regenerating: a golden file is the promise of what
a user sees, so a change there is a change to the product.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN_DIR = Path(__file__).parent / "golden"


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN_DIR / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
        return
    assert path.exists(), f"{path} is missing; run UPDATE_GOLDEN=1 pytest tests/report"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{name} differs from its golden file; if the change is intended, run "
        "UPDATE_GOLDEN=1 pytest tests/report and review the diff"
    )
