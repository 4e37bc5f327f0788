"""One line of an error for a status, an event or a CLI message: never empty, never a secret,
never a row value (`ferry.observability.row_values`), never longer than MAX_LENGTH.

`str(exc).splitlines()[0]` raises IndexError on an exception with an empty message (many
driver errors have one), turning a clear refusal into a traceback; this is the one helper
every layer uses instead.
"""

from __future__ import annotations

from ferry.observability.redaction import redact
from ferry.observability.row_values import without_row_values

MAX_LENGTH = 500


def first_line(error: BaseException | str | None, limit: int = MAX_LENGTH) -> str:
    """The first non-empty line of `error`, redacted and bounded; the exception's type name when
    it has no text (so the reader always learns something)."""
    if error is None:
        return ""
    text = error if isinstance(error, str) else str(error)
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    if not line and isinstance(error, BaseException):
        line = type(error).__name__
    line = without_row_values(redact(line))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe(exc: BaseException, limit: int = MAX_LENGTH) -> str:
    """`Type: first line` (or just the type when the message is empty)."""
    line = first_line(exc, limit)
    name = type(exc).__name__
    return name if line in ("", name) else f"{name}: {line}"
