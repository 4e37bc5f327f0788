"""status.phaseHistory: every phase entered, once per stay, bounded; the report's spans."""

from __future__ import annotations

from datetime import UTC, datetime

from ferry.api import conditions as c
from ferry.api.migration import MigrationStatus, Phase
from ferry.api.phase_history import MAX_SPANS, PhaseSpan, spans


def test_each_phase_entered_is_recorded_once_per_stay() -> None:
    st = MigrationStatus()
    st.mark_waiting(c.WAITING_FOR_CONNECTION, "waiting", 1)
    st.mark_planning(1)
    st.mark_running("copying", 1)
    st.mark_running("still copying", 1)  # the same stay
    st.mark_suspended(1)
    st.mark_running("copying again", 1)
    st.mark_validating(1)
    st.mark_succeeded("ok", 1, "2026-01-01T00:00:00Z")
    phases = [span.phase for span in st.phase_history]
    assert phases == ["Pending", "Planning", "Running", "Suspended", "Running", "Validating", "Succeeded"]
    assert st.to_wire()["phaseHistory"][0].keys() == {"phase", "startedAt"}
    assert st.phase_history[-1].started_at == st.phase_transition_time


def test_the_history_keeps_only_the_last_entries() -> None:
    st = MigrationStatus()
    for _ in range(MAX_SPANS):
        st.mark_suspended(1)
        st.mark_running("resumed", 1)
    assert len(st.phase_history) == MAX_SPANS and st.phase_history[-1].phase == Phase.RUNNING


def test_spans_end_where_the_next_begins_and_the_last_stays_open() -> None:
    history = [
        PhaseSpan(phase="Running", started_at="2026-01-01T00:00:00Z"),
        PhaseSpan(phase="Validating", started_at="2026-01-01T00:02:00Z"),
        PhaseSpan(phase="Succeeded", started_at="2026-01-01T00:02:30Z"),
    ]
    out = spans(history)
    assert [(s["phase"], s["endedAt"], s["seconds"]) for s in out] == [
        ("Running", "2026-01-01T00:02:00Z", 120),
        ("Validating", "2026-01-01T00:02:30Z", 30),
        ("Succeeded", None, None),
    ]
    until = datetime(2026, 1, 1, 0, 3, tzinfo=UTC)
    assert spans(history, until)[-1]["seconds"] == 30


def test_no_history_gives_no_spans() -> None:
    # A local run (ferry run) marks no phases; its report must still be written.
    assert spans([]) == [] and spans([], datetime(2026, 1, 1, tzinfo=UTC)) == []
