"""Logging for every Ferry process: structlog in front, stdlib underneath, secrets masked last.

kopf, the kubernetes client and the database drivers log through the stdlib `logging`
module; Ferry's own code logs through structlog. Both end in one handler whose formatter
runs the redaction processor as the very last step before rendering, after tracebacks have
been turned into text, so nothing reaches the output without being scrubbed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import IO, Any

import structlog

from ferry.observability.redaction import MASK, REGISTRY, is_sensitive_key, redact, register_secret

__all__ = ["configure_logging", "get_logger", "redact", "redact_event", "register_secret"]

# structlog's own bookkeeping keys; their values are never user data.
_INTERNAL_KEYS = frozenset({"_record", "_from_structlog", "timestamp", "level", "logger"})


def _redact_value(key: str, value: Any) -> Any:
    if is_sensitive_key(key) and value not in (None, ""):
        return MASK
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_redact_value("", v) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    # Anything else is rendered with repr/str by the renderer: scrub that form now.
    return redact(str(value))


def redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask sensitive fields and secret values anywhere in the event."""
    for key, value in list(event_dict.items()):
        if key in _INTERNAL_KEYS:
            continue
        event_dict[key] = _redact_value("" if key == "event" else key, value)
    return event_dict


def configure_logging(
    level: int | str = logging.INFO, *, json: bool = False, stream: IO[str] | None = None
) -> None:
    """Route structlog and stdlib logging through one redacting handler on `stream` (stderr)."""
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_event,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_ferry", False):
            root.removeHandler(old)
    handler._ferry = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


def get_logger(name: str | None = None, **initial: Any) -> Any:
    """A structlog logger; `initial` fields are bound to every line it writes."""
    return structlog.get_logger(name, **initial)


def registered_secret_count() -> int:
    """How many secret forms are registered (for tests and debugging; never the values)."""
    return len(REGISTRY._values)
