"""The words and symbols every human-facing renderer (table, Markdown) uses for a result.

One place decides that a pending billing check shows `~` and reads "will change", so the table
and the step summary never disagree. Symbols are single-width so columns line up in a terminal.
Smoke metrics are read by key (`ttft_ms`, `tokens_per_s`); the smoke test writes those keys.
`segments` finds the URLs and shell commands in a remedy or detail, so a renderer can keep them
whole (a person copies them; a broken one is useless).
"""

from __future__ import annotations

import re
from enum import StrEnum

from bootstrap.checks import MODEL_PREFIX, CheckStatus, check_kind
from bootstrap.plan.model import CHECK_FOR_ACTION, SYMBOLS, Action, ChangeOutcome
from bootstrap.report.model import ChangeReport, CheckReport, ProjectReport, ProjectStatus

# Metric keys of a smoke check (`smoke:<alias>@<location>`); the smoke test writes these.
TTFT_MS = "ttft_ms"
RUN_AS = "run_as"  # whose token the stream carried: serviceAccount:EMAIL, or "caller"
TOKENS_PER_S = "tokens_per_s"


class Shown(StrEnum):
    """How a project or a check reads to a person; finer than ProjectStatus (ok vs changed)."""

    OK = "ok"
    CHANGED = "changed"
    WILL_CHANGE = "will change"
    PROPAGATING = "propagating"
    UNKNOWN = "unknown"
    NOT_RUN = "not run"
    NEEDS_PERSON = "needs a person"
    FAILED = "failed"
    SKIPPED = "skipped"
    WARNING = "warning"


# Most urgent first: the order of summary lines and of per-status counts.
SHOWN_ORDER: tuple[Shown, ...] = (
    Shown.OK,
    Shown.CHANGED,
    Shown.WILL_CHANGE,
    Shown.PROPAGATING,
    Shown.UNKNOWN,
    Shown.NEEDS_PERSON,
    Shown.FAILED,
)

SYMBOL: dict[Shown, str] = {
    Shown.OK: "✓",
    Shown.CHANGED: "✓",
    Shown.WILL_CHANGE: "~",
    Shown.PROPAGATING: "↻",
    Shown.UNKNOWN: "?",
    Shown.NOT_RUN: "-",
    Shown.NEEDS_PERSON: "!",
    Shown.FAILED: "✗",
    Shown.SKIPPED: "-",
    Shown.WARNING: "⚠",
}

EMOJI: dict[Shown, str] = {
    Shown.OK: "✅",
    Shown.CHANGED: "🔧",
    Shown.WILL_CHANGE: "🟡",
    Shown.PROPAGATING: "⏳",
    Shown.UNKNOWN: "❓",
    Shown.NOT_RUN: "⏸️",
    Shown.NEEDS_PERSON: "✋",
    Shown.FAILED: "❌",
    Shown.SKIPPED: "⏭️",
    Shown.WARNING: "⚠️",
}

_CHECK_SHOWN: dict[CheckStatus, Shown] = {
    CheckStatus.OK: Shown.OK,
    CheckStatus.PENDING: Shown.WILL_CHANGE,
    CheckStatus.PROPAGATING: Shown.PROPAGATING,
    CheckStatus.UNKNOWN: Shown.UNKNOWN,
    CheckStatus.NOT_RUN: Shown.NOT_RUN,
    CheckStatus.CHANGED: Shown.CHANGED,
    CheckStatus.ACTION_REQUIRED: Shown.NEEDS_PERSON,
    CheckStatus.FAILED: Shown.FAILED,
    CheckStatus.SKIPPED: Shown.SKIPPED,
    CheckStatus.WARNING: Shown.WARNING,
}

_CHANGE_SHOWN: dict[ChangeOutcome, Shown] = {
    ChangeOutcome.PLANNED: Shown.WILL_CHANGE,
    ChangeOutcome.APPLIED: Shown.CHANGED,
    ChangeOutcome.FAILED: Shown.FAILED,
    ChangeOutcome.SKIPPED: Shown.SKIPPED,
}

# Which change fixes a pending check, so the check shows that change's symbol (+ or ~).
# A pending check shows the symbol of the change that will fix it.
_CHECK_ACTION: dict[str, Action] = {check: action for action, check in CHECK_FOR_ACTION.items()} | {
    check_kind(MODEL_PREFIX): Action.ENABLE_MODEL
}


def action_symbol(action: str) -> str:
    """The plan's symbol for an action; `~` for an action this version does not know."""
    try:
        return SYMBOLS[Action(action)]
    except ValueError:
        return "~"


def check_shown(check: CheckReport) -> Shown:
    return _CHECK_SHOWN[check.status]


def check_symbol(check: CheckReport) -> str:
    if check.status is CheckStatus.PENDING:
        action = _CHECK_ACTION.get(check_kind(check.name))
        return SYMBOLS[action] if action is not None else SYMBOL[Shown.WILL_CHANGE]
    return SYMBOL[check_shown(check)]


def change_shown(change: ChangeReport) -> Shown:
    return _CHANGE_SHOWN[change.outcome]


def change_symbol(change: ChangeReport) -> str:
    if change.outcome is ChangeOutcome.PLANNED:
        return action_symbol(change.action)
    return SYMBOL[change_shown(change)]


def project_shown(project: ProjectReport) -> Shown:
    """ProjectStatus, with `ok` split into ok and changed (ok after applying changes this run)."""
    if project.status is ProjectStatus.FAILED:
        return Shown.FAILED
    if project.status is ProjectStatus.ACTION_REQUIRED:
        return Shown.NEEDS_PERSON
    if project.status is ProjectStatus.UNKNOWN:
        return Shown.UNKNOWN
    if project.status is ProjectStatus.PROPAGATING:
        return Shown.PROPAGATING
    if project.status is ProjectStatus.CHANGES:
        return Shown.WILL_CHANGE
    if project.changed_to_ok:
        return Shown.CHANGED
    return Shown.OK


def project_symbol(project: ProjectReport) -> str:
    shown = project_shown(project)
    if shown is Shown.WILL_CHANGE:
        planned = [c for c in project.changes if c.outcome is ChangeOutcome.PLANNED]
        return change_symbol(planned[0]) if planned else SYMBOL[shown]
    return SYMBOL[shown]


def count_projects(projects: tuple[ProjectReport, ...]) -> dict[Shown, int]:
    counts = dict.fromkeys(SHOWN_ORDER, 0)
    for project in projects:
        counts[project_shown(project)] += 1
    return counts


def summary_line(projects: tuple[ProjectReport, ...]) -> str:
    """E.g. "7 projects: 2 ok, 3 changed, 1 needs a person, 1 failed" (zero counts left out)."""
    total = len(projects)
    noun = "project" if total == 1 else "projects"
    parts = [f"{n} {_plural(shown, n)}" for shown, n in count_projects(projects).items() if n]
    return f"{total} {noun}: {', '.join(parts)}" if parts else f"{total} {noun}"


def _plural(shown: Shown, count: int) -> str:
    return "need a person" if shown is Shown.NEEDS_PERSON and count > 1 else shown.value


def is_finding(check: CheckReport) -> bool:
    """A check a person should read: it did not pass (and was not turned off), or it warns."""
    return check.status not in (CheckStatus.OK, CheckStatus.CHANGED, CheckStatus.SKIPPED)


def smoke_metrics(check: CheckReport) -> tuple[float | None, float | None]:
    """(TTFT in ms, tokens per second) when the check recorded them as numbers."""
    return _number(check.metrics.get(TTFT_MS)), _number(check.metrics.get(TOKENS_PER_S))


def has_smoke_metrics(check: CheckReport) -> bool:
    return any(value is not None for value in smoke_metrics(check))


def format_smoke(check: CheckReport) -> str:
    """E.g. "TTFT 40 ms, 85.2 tok/s" (then "as app@p.iam.gserviceaccount.com" when the stream
    ran as a workload's account); empty when the check has none of these."""
    ttft, rate = smoke_metrics(check)
    parts = []
    run_as = check.metrics.get(RUN_AS)
    if isinstance(run_as, str) and run_as.startswith("serviceAccount:"):
        parts.append("as " + run_as.removeprefix("serviceAccount:"))
    if ttft is not None:
        parts.append(f"TTFT {ttft:.0f} ms")
    if rate is not None:
        parts.append(f"{rate:.1f} tok/s")
    return ", ".join(parts)


def _number(value: float | int | str | None) -> float | None:
    # bool is an int; a metric of True is not a measurement.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


class Piece(StrEnum):
    """What a stretch of a remedy or detail is: words to wrap, or a token to keep whole."""

    PROSE = "prose"
    URL = "url"
    COMMAND = "command"


# A command starts with one of these words, at the start of the text or after a word ending in
# ":" or one of _LEADS ("... link an open account: gcloud billing ...", "<url> or curl ...").
COMMAND_WORDS = frozenset({"gcloud", "gsutil", "bq", "curl", "bootstrap", "kubectl", "terraform"})
_LEADS = frozenset({"or", "and", "run", "Run"})
_URL = re.compile(r"https?://\S+")
_SENTENCE_END = ".,;:"


def shell_words(text: str) -> list[str]:
    """`text` split at blanks outside quotes and `$(...)`, each word as written (quotes kept)."""
    words: list[str] = []
    current: list[str] = []
    quote, depth = "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(" and text[i - 1 : i] == "$":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif char.isspace() and not depth:
            if current:
                words.append("".join(current))
            current = []
            continue
        current.append(char)
    if current:
        words.append("".join(current))
    return words


def segments(text: str) -> list[tuple[Piece, str]]:
    """`text` cut into prose, URLs and commands; punctuation ending a sentence after a token
    is dropped (it is not part of the token, and alone on a line it reads as noise)."""
    words = shell_words(text)
    pieces: list[tuple[Piece, str]] = []
    prose: list[str] = []
    i = 0
    while i < len(words):
        end, piece = _token_at(words, i)
        if piece is Piece.PROSE:
            prose.append(words[i])
            i += 1
            continue
        if prose:
            pieces.append((Piece.PROSE, " ".join(prose)))
            prose = []
        token = " ".join(words[i:end])
        stripped = token.rstrip(_SENTENCE_END)
        pieces.append((piece, stripped))
        i = end
    if prose:
        pieces.append((Piece.PROSE, " ".join(prose)))
    return pieces


def _token_at(words: list[str], i: int) -> tuple[int, Piece]:
    """(end, kind) of the token starting at word i: a command runs to the end of the text, to a
    word opening a parenthesis, or to a word ending a sentence; a URL is one word."""
    word = words[i]
    starts_command = i == 0 or words[i - 1].endswith(":") or words[i - 1] in _LEADS
    if word in COMMAND_WORDS and starts_command:
        end = i + 1
        while end < len(words) and not words[end].startswith("("):
            end += 1
            if words[end - 1].endswith((".", ";")):
                break
        return end, Piece.COMMAND
    if _URL.match(word):
        return i + 1, Piece.URL
    return i + 1, Piece.PROSE
