"""What a Migration that is waiting costs: no re-plan while nothing it depends on changed, no
status write when nothing changed, no timer once it is finished, no listing of Projects."""

from __future__ import annotations

from datetime import timedelta

import kubernetes.client
import pytest
import urllib3
from pydantic import ValidationError

from ferry.api.migration import Phase, ProgressStatus, WorkerStatus
from ferry.api.project import ProjectPolicy
from ferry.controllers.migration import needs_ticks, predates_own_write
from ferry.services.governance import governance_from_index, index_key
from ferry.services.migration import MAX_RECONCILE_ERRORS, MigrationReconciler
from ferry.services.migration_kube import KubeMigrationPorts
from ferry.services.migration_ports import MigrationContext
from ferry.services.policy import Governance
from ferry.services.progress import refresh_progress
from ferry.services.replan import REPLAN_SECONDS
from ferry.services.status_diff import changed_fields, owned_status
from unit.services.fake_ports import FakePorts, context, drop_column, plan, spec


def _awaiting(ports: FakePorts) -> MigrationContext:
    ctx = context()
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.AWAITING_APPROVAL
    return ctx


def _plans(ports: FakePorts) -> int:
    return ports.actions().count("plan")


# -- a plan awaiting approval --------------------------------------------------------------------


def test_a_pending_plan_is_not_computed_again_while_nothing_changed() -> None:
    ports = FakePorts(planned=plan(drop_column()))
    ctx = _awaiting(ports)
    for _ in range(5):
        out = MigrationReconciler(ports).reconcile(ctx)
        assert out.requeue_after == 15
    assert _plans(ports) == 1
    assert ports.actions().count("fingerprint") == 6  # one cheap catalog query per check instead
    assert ctx.status.phase == Phase.AWAITING_APPROVAL


def test_a_schema_change_on_either_side_plans_again() -> None:
    ports = FakePorts(planned=plan(drop_column()))
    ctx = _awaiting(ports)
    ports.fingerprint = "pg:a|pg:c"  # DDL ran on the target
    MigrationReconciler(ports).reconcile(ctx)
    assert _plans(ports) == 2


def test_a_spec_change_plans_again() -> None:
    ports = FakePorts(planned=plan(drop_column()))
    ctx = _awaiting(ports)
    ctx.spec, ctx.generation = spec(copy={"parallelism": 1}), 2
    MigrationReconciler(ports).reconcile(ctx)
    assert _plans(ports) == 2


def test_a_change_of_the_projects_rules_plans_again() -> None:
    ports = FakePorts(planned=plan(drop_column()))
    ctx = _awaiting(ports)
    ports.governance_ = Governance("team-a", ProjectPolicy(lossy_requires_approval=True))
    MigrationReconciler(ports).reconcile(ctx)
    assert _plans(ports) == 2


def test_a_pending_plan_is_computed_again_after_the_longer_interval() -> None:
    ports = FakePorts(planned=plan(drop_column()))
    ctx = _awaiting(ports)
    ports.clock += timedelta(seconds=REPLAN_SECONDS - 1)
    MigrationReconciler(ports).reconcile(ctx)
    assert _plans(ports) == 1
    ports.clock += timedelta(seconds=2)
    MigrationReconciler(ports).reconcile(ctx)
    assert _plans(ports) == 2


def test_an_unreadable_fingerprint_plans_and_the_plan_says_why() -> None:
    ports = FakePorts(planned=plan(drop_column()))
    ctx = _awaiting(ports)
    ports.fingerprint = OSError("connection refused")
    MigrationReconciler(ports).reconcile(ctx)
    assert _plans(ports) == 2


def test_an_operator_restart_plans_once_more() -> None:
    """The basis lives in kopf's per-object memory: a new process has none."""
    ports = FakePorts(planned=plan(drop_column()))
    ctx = _awaiting(ports)
    ctx.plan_basis = None
    MigrationReconciler(ports).reconcile(ctx)
    MigrationReconciler(ports).reconcile(ctx)
    assert _plans(ports) == 2


# -- status writes -------------------------------------------------------------------------------


def test_status_fields_are_sent_only_when_they_changed() -> None:
    ctx = context()
    before = owned_status(ctx.status)
    assert changed_fields(owned_status(ctx.status), before, before) == {}
    ctx.status.attempts = 2
    assert changed_fields(owned_status(ctx.status), before, before) == {"attempts": 2}


def test_a_cleared_field_is_sent_as_null() -> None:
    ctx = context()
    ctx.status.next_attempt_time = "2026-11-29T12:00:00Z"
    before = owned_status(ctx.status)
    ctx.status.next_attempt_time = None
    assert changed_fields(owned_status(ctx.status), before, before) == {"nextAttemptTime": None}


def test_a_field_is_sent_when_either_base_differs() -> None:
    """The object read may not show this process's last write yet, or someone else may have
    written since: a field equal to one base only is sent again."""
    ctx = context()
    written = owned_status(ctx.status)
    ctx.status.message = "from another writer"
    read = owned_status(ctx.status)
    ctx.status.message = None
    assert changed_fields(owned_status(ctx.status), written, read) == {"message": None}
    assert changed_fields(owned_status(ctx.status), None, read) == {"message": None}
    assert changed_fields(owned_status(ctx.status), None, None) == owned_status(ctx.status)


def test_the_fields_of_the_pods_are_never_written_by_the_operator() -> None:
    ctx = context()
    ctx.status.workers = {"0": WorkerStatus(rows_copied=5)}
    assert "workers" not in owned_status(ctx.status)


def test_progress_with_no_news_keeps_its_time_so_nothing_is_written() -> None:
    ctx = context()
    ctx.status.workers = {"0": WorkerStatus(rows_copied=5)}
    ctx.status.progress = ProgressStatus(tables_total=1, rows_estimated=10)
    refresh_progress(ctx.status, finished=False)
    first = ctx.status.progress
    before = owned_status(ctx.status)
    refresh_progress(ctx.status, finished=False)
    assert ctx.status.progress is first
    assert changed_fields(owned_status(ctx.status), before, before) == {}
    ctx.status.workers["0"].rows_copied = 7
    refresh_progress(ctx.status, finished=False)
    assert ctx.status.progress is not None and ctx.status.progress.rows_copied == 7


# -- finished Migrations, and those that gave up -------------------------------------------------


@pytest.mark.parametrize("phase", ["Succeeded", "Failed", "RolledBack"])
def test_the_timer_stops_for_a_finished_migration(phase: str) -> None:
    assert not needs_ticks(status={"phase": phase}, meta={"generation": 1})


def test_the_timer_stops_for_a_migration_that_gave_up_until_its_spec_changes() -> None:
    gave_up = {"phase": "Running", "reconcileErrors": MAX_RECONCILE_ERRORS, "observedGeneration": 3}
    assert not needs_ticks(status=gave_up, meta={"generation": 3})
    assert needs_ticks(status=gave_up, meta={"generation": 4})
    assert needs_ticks(status={"phase": "AwaitingApproval"}, meta={"generation": 1})


def test_a_finished_migration_asks_nothing_of_the_world() -> None:
    ports = FakePorts()
    ctx = context()
    ctx.status.phase, ctx.status.observed_generation = Phase.SUCCEEDED, 1
    ctx.status.report = "ferry-report-shop-uid-1"  # its run report was kept when it ended
    MigrationReconciler(ports).reconcile(ctx)
    assert ports.calls == [] and ports.saved == [] and ports.reports == []


# -- Projects from the index -----------------------------------------------------------------------


def test_the_governing_project_comes_from_the_index() -> None:
    raw = {"namespace": "team-a", "policy": {"maxParallelism": 1}}
    index = {index_key("alpha", raw): [("alpha", raw)], index_key("team-b", {}): [("team-b", {})]}
    found = governance_from_index(index, "team-a")
    assert found.project == "alpha" and found.policy.max_parallelism == 1
    assert governance_from_index(index, "team-b").project == "team-b"  # namespace defaults to the name
    assert governance_from_index(index, "elsewhere") == Governance(None)


def test_two_projects_claiming_a_namespace_resolve_to_the_first_by_name() -> None:
    index = {"shared": [("zeta", {"namespace": "shared"}), ("alpha", {"namespace": "shared"})]}
    assert governance_from_index(index, "shared").project == "alpha"


def test_a_project_spec_that_does_not_parse_fails_the_lookup_instead_of_ungoverning() -> None:
    index = {"team-a": [("alpha", {"namespace": "team-a", "policy": {"maxParallelism": "many"}})]}
    with pytest.raises(ValidationError):
        governance_from_index(index, "team-a")


def test_the_real_ports_send_no_request_when_no_status_field_changed() -> None:
    """KubeMigrationPorts against an address where nothing listens: a save with no change makes
    no request (and so cannot fail); a save with a change tries one."""
    configuration = kubernetes.client.Configuration()
    configuration.host, configuration.retries = "http://127.0.0.1:9", 0
    ports = KubeMigrationPorts(kubernetes.client.ApiClient(configuration))
    ctx = context()
    ctx.status.observed_generation = ctx.generation  # as the operator last left it
    ctx.read = owned_status(ctx.status)
    ports.save_status(ctx)  # nothing changed: no request
    ctx.status.attempts = 1
    with pytest.raises(urllib3.exceptions.HTTPError):
        ports.save_status(ctx)


def test_a_body_older_than_the_operators_own_last_write_is_not_reconciled() -> None:
    """A timer tick whose body predates the status this process wrote (the watch event of the
    write has not arrived): acting on it would plan again under the Job just created."""
    ports, ctx = FakePorts(), context()
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.RUNNING
    written = owned_status(ctx.status)  # what KubeMigrationPorts.save_status remembers
    stale = context()  # the body as it was before: Pending, no plan
    stale.written = written
    assert predates_own_write(stale)
    fresh = context()
    fresh.status, fresh.written = ctx.status.model_copy(deep=True), written
    assert not predates_own_write(fresh)
    restarted = context()  # a new process has written nothing yet
    assert not predates_own_write(restarted)
