"""What the table promises about width and whole tokens, as functions the table tests share.

A line may be wider than the terminal only when it cannot be broken: a URL, or one word (one
shell word, quotes kept, of a command continued with ` \\`). URLs and commands appear whole: a URL alone on a line, a command
alone on a line or continued with ` \\` at blanks, so that joining the pieces gives it back.
"""

from __future__ import annotations

import re

from rich.cells import cell_len

from bootstrap.report.display import shell_words
from bootstrap.report.model import RunReport

URL = re.compile(r"https?://[^\s]+[^\s.,;:]")
# The commands of report_samples.full_report(), written out rather than found by the code under test.
FULL_REPORT_COMMANDS = (
    "gcloud billing projects link demo-closed-billing --billing-account=ACCOUNT_ID",
    "gcloud projects update demo-labels --update-labels=team=research",
)


def urls(report: RunReport) -> set[str]:
    texts = [*report.warnings]
    texts += [f"{c.detail}\n{c.remedy}" for p in report.projects for c in p.checks]
    return {url for text in texts for url in URL.findall(text)}


def too_wide(text: str, width: int) -> list[str]:
    """The lines wider than `width` that could have been broken (more than one word)."""
    wide = [line for line in text.splitlines() if cell_len(line) > width]
    return [line for line in wide if len(shell_words(line.strip().removesuffix(" \\"))) > 1]


def logical_lines(text: str) -> set[str]:
    """Every line stripped, with lines continued by ` \\` joined into one (single blanks)."""
    joined: set[str] = set()
    pending: list[str] = []
    for line in text.splitlines():
        piece = line.strip()
        if piece.endswith(" \\"):
            pending.append(piece.removesuffix(" \\"))
            continue
        joined.add(" ".join([*pending, piece]))
        pending = []
    return joined


def missing_tokens(text: str, report: RunReport, commands: tuple[str, ...]) -> list[str]:
    """The report's URLs not alone and whole on a line, and `commands` not whole (see above)."""
    lines = {line.strip() for line in text.splitlines()}
    missing = [url for url in sorted(urls(report)) if url not in lines]
    return missing + [cmd for cmd in commands if cmd not in logical_lines(text)]
