"""The one exception tree of storyboard.

Every error a user can cause is a ``StoryboardError``; the CLI prints its lines and
exits non-zero, so no third-party traceback ever reaches a user::

    StoryboardError
    ├── SourceError                  problems in the user's files, each at file:line:col
    │   ├── LoadError                YAML syntax, duplicate keys, size/alias/depth bounds
    │   ├── SchemaError              the storyboard JSON Schema
    │   ├── VariantError             matrix/rows expansion, ids, data files
    │   ├── TemplateError            Jinja2 syntax, undefined names, sandbox escapes
    │   ├── BudgetError              durations that cannot be budgeted into takes
    │   └── RequestError             a compiled request breaks the API's input contract
    ├── UsageError                   bad options or auxiliary files (pricing, plan JSON)
    │   └── MediaMissing             video work without the ``storyboard[media]`` extra
    ├── BudgetExceeded               the plan costs more than the budget allows
    ├── StateError                   the journal under .storyboard/
    │   ├── JournalLocked            another run holds the state
    │   ├── JournalCorrupt           the journal cannot be read safely
    │   └── JournalLost              missing, empty or older than the state folder shows
    ├── ExecutionError               talking to the job API
    │   ├── APIError                 an HTTP error status or a non-zero ``code``
    │   │   ├── AuthError            401/403: the key is missing or wrong
    │   │   └── RetryableAPIError    429/503/``code: 3000``: certainly not run, try again
    │   ├── OutcomeUnknown           a create may or may not have run (never re-sent blindly)
    │   └── DownloadError            the video could not be fetched or verified
    └── MediaError                   a render or music file cannot be read or joined

Problems are data: a ``Problem`` carries a ``SourceLocation`` (or none) and a message,
and ``Problem.format()`` is the one place that writes ``file:line:col: error: ...``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where in a user's file something came from (1-based line and column)."""

    file: str
    line: int
    column: int
    json_path: str = "$"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a user's input, with where it is and what to do."""

    message: str
    location: SourceLocation | None = None
    severity: str = "error"

    def format(self) -> str:
        if self.location is None:
            return f"{self.severity}: {self.message}"
        where = f" (at {self.location.json_path})" if self.location.json_path else ""
        return f"{self.location}: {self.severity}: {self.message}{where}"

    def __str__(self) -> str:
        return self.format()


class StoryboardError(Exception):
    """Base of every error storyboard reports to a user."""

    exit_code = 1

    def lines(self) -> list[str]:
        """The lines to show a user, one per problem."""
        return [f"error: {line}" for line in str(self).splitlines()]


class SourceError(StoryboardError):
    """One or more problems located in the user's files."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(p.format() for p in self.problems))

    def lines(self) -> list[str]:
        return [p.format() for p in self.problems]


class LoadError(SourceError):
    pass


class SchemaError(SourceError):
    pass


class VariantError(SourceError):
    pass


class TemplateError(SourceError):
    pass


class BudgetError(SourceError):
    pass


class RequestError(SourceError):
    pass


class UsageError(StoryboardError):
    """A bad option or auxiliary file; the message says what to do."""

    exit_code = 2


class MediaMissing(UsageError):
    """PyAV or Pillow is not installed; the message names the install command."""


class BudgetExceeded(StoryboardError):
    """The plan is over ``budget.max_cost_usd``/``max_seconds`` (or ``--max-cost``)."""

    exit_code = 1


class OverBudget(BudgetExceeded):
    """A create that would take a storyboard's shared spend past its budget (checked as
    the attempt is journaled, so runners sharing a journal cannot overspend together)."""


class StateError(StoryboardError):
    pass


class StoreError(StateError):
    """The shared render store (``--store``) cannot be read or written."""


class ClaimLost(StateError):
    """A shared journal's claim expired while its runner was away and another runner took
    the generation over: this runner must not create it."""


class JournalLocked(StateError):
    pass


class JournalCorrupt(StateError):
    pass


class JournalLost(StateError):
    """The journal is missing, empty or older than what its state folder shows: a fresh
    start would pay again for jobs already paid, so it is never made silently."""


class ExecutionError(StoryboardError):
    pass


class APIError(ExecutionError):
    """The API answered with an HTTP error status or a non-zero ``code``."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None,
                 retry_after: float | None = None) -> None:
        self.status = status
        self.code = code
        self.retry_after = retry_after
        super().__init__(message)


class AuthError(APIError):
    pass


class RetryableAPIError(APIError):
    """The request certainly did not run (429, 503, ``code: 3000``); safe to send again."""


class OutcomeUnknown(ExecutionError):
    """A create was sent but its outcome is unknown; re-sending could pay twice."""



class DownloadError(ExecutionError):
    pass


class MediaError(StoryboardError):
    """A render or music file that cannot be read or joined; the message names it."""


class ProblemCollector:
    """Collects problems across variants and merges repeats into one line.

    A typo in a template shared by a 1,000-variant campaign is one problem naming a few
    of the variants it breaks, not a thousand identical lines.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[SourceLocation | None, str], list[str]] = {}

    def add(self, message: str, location: SourceLocation | None,
            variant: str | None = None) -> None:
        variants = self._seen.setdefault((location, message), [])
        if variant is not None:
            variants.append(variant)

    def extend(self, problems: Iterable[Problem], variant: str | None = None) -> None:
        for p in problems:
            self.add(p.message, p.location, variant)

    def __bool__(self) -> bool:
        return bool(self._seen)

    def problems(self) -> list[Problem]:
        out = []
        for (location, message), variants in self._seen.items():
            if len(variants) == 1:
                message = f"{message} (variant '{variants[0]}')"
            elif variants:
                shown = ", ".join(variants[:3])
                if len(variants) > 3:
                    shown += f" and {len(variants) - 3} more"
                message = f"{message} (variants {shown})"
            out.append(Problem(message, location))
        return out
