"""The benchmark's results: best time per method, Ferry's throughput ratios to each anchor, targets.

A ratio is anchor time / Ferry time over the best run of each (1.0 = as fast as the anchor,
above 1 = faster). Targets from issue 5: PG→PG at least 0.9 times the parallel pipe and at least
as fast as pgcopydb; MariaDB→PG at least 2 times pgloader; the worker's peak RSS under 200 MB.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.methods import Outcome

RATIOS = (  # (name, ferry method, anchor method, target)
    ("ferry/pipe-par", "ferry", "pipe-par", 0.9),
    ("ferry/pipe-seq", "ferry", "pipe-seq", None),
    ("ferry/pgcopydb", "ferry", "pgcopydb", 1.0),
    ("ferry/pgloader", "ferry", "pgloader", None),
    ("maria-ferry/maria-pgloader", "maria-ferry", "maria-pgloader", 2.0),
)
RSS_TARGET_MB = 200.0


def best(outcomes: Sequence[Outcome]) -> dict[str, Outcome]:
    chosen: dict[str, Outcome] = {}
    for o in outcomes:
        if not o.ok or o.seconds is None:
            continue
        if o.method not in chosen or o.seconds < (chosen[o.method].seconds or 0):
            chosen[o.method] = o
    return chosen


def ratios(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    fastest = best(outcomes)
    rows: list[dict[str, Any]] = []
    for name, ferry, anchor, target in RATIOS:
        f, a = fastest.get(ferry), fastest.get(anchor)
        value = (a.seconds / f.seconds) if f and a and f.seconds and a.seconds else None
        met = None if value is None or target is None else value >= target
        rows.append({"ratio": name, "value": value, "target": target, "met": met})
    return rows


def peak_rss(outcomes: Sequence[Outcome], method: str) -> float | None:
    values = [o.peak_rss_mb for o in outcomes if o.method == method and o.peak_rss_mb is not None]
    return max(values) if values else None


def _cpu(run: Outcome | None) -> str:
    """CPU seconds of the best run: the tool's own, PostgreSQL's, MariaDB's (- when not measured)."""
    if run is None:
        return "-"
    spent = run.server_cpu_seconds
    parts = [
        run.cpu_seconds,
        spent.get("postgresql"),
        spent.get("mariadb") if run.method.startswith("maria") else None,
    ]
    return "/".join("-" if v is None else f"{v:.1f}" for v in parts)


def table(outcomes: Sequence[Outcome], methods: Sequence[str]) -> str:
    fastest = best(outcomes)
    lines = [
        f"{'method':<16} {'best s':>8} {'runs s':<24} {'M rows/s':>9} {'peak RSS MB':>12} "
        f"{'CPU s tool/pg/maria':>20}  note"
    ]
    for name in methods:
        runs = [o for o in outcomes if o.method == name]
        times = ", ".join(f"{o.seconds:.1f}" if o.ok and o.seconds else "failed" for o in runs)
        b = fastest.get(name)
        rate = f"{(b.rows_per_second or 0) / 1e6:.2f}" if b else "-"
        secs = f"{b.seconds:.1f}" if b and b.seconds else "-"
        rss = peak_rss(outcomes, name)
        errors = sorted({o.error for o in runs if o.error})
        note = ("NOT RUN/FAILED: " + "; ".join(errors)) if errors else ""
        lines.append(f"{name:<16} {secs:>8} {times:<24} {rate:>9} {rss or 0:>12.0f} {_cpu(b):>20}  {note}")
    lines.append("")
    for r in ratios(outcomes):
        value = "n/a (a method did not run)" if r["value"] is None else f"{r['value']:.2f}"
        target = (
            "" if r["target"] is None else f"  target ≥ {r['target']}: " + ("met" if r["met"] else "MISSED")
        )
        lines.append(f"{r['ratio']:<28} {value}{target if r['value'] is not None else ''}")
    for method in ("ferry", "maria-ferry"):
        rss = peak_rss(outcomes, method)
        if rss is not None:
            verdict = "met" if rss < RSS_TARGET_MB else "MISSED"
            lines.append(
                f"{method + ' peak RSS':<28} {rss:.0f} MB  target < {RSS_TARGET_MB:.0f} MB: {verdict}"
            )
    return "\n".join(lines)


def write_json(path: Path, meta: dict[str, Any], outcomes: Sequence[Outcome]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        **meta,
        "runs": [{**asdict(o), "rows_per_second": o.rows_per_second} for o in outcomes],
        "best_seconds": {name: o.seconds for name, o in best(outcomes).items()},
        "ratios": ratios(outcomes),
        "peak_rss_mb": {m: peak_rss(outcomes, m) for m in ("ferry", "maria-ferry")},
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")
