"""Human forms of rates and durations, shared by status printer columns and the CLI."""

from __future__ import annotations


def human_rate(rows_per_second: float) -> str:
    for factor, unit in ((1e6, "M"), (1e3, "k")):
        if rows_per_second >= factor:
            return f"{rows_per_second / factor:.1f}{unit} rows/s"
    return f"{rows_per_second:.0f} rows/s"


def human_duration(seconds: int) -> str:
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
