"""Condition types and reasons: the one place where their names are defined.

The three standard types follow the kstatus convention, so GitOps tools read health
without Ferry-specific code:
- Ready: the object does what it declares (connection reachable, migration succeeded).
- Reconciling: Ferry is working towards the declared state; it may still change.
- Stalled: Ferry cannot make progress without a change from the user.
"""

from typing import Final

READY: Final = "Ready"
RECONCILING: Final = "Reconciling"
STALLED: Final = "Stalled"

# DatabaseConnection reasons.
CONNECTED: Final = "Connected"
PROBING: Final = "Probing"
SECRET_NOT_FOUND: Final = "SecretNotFound"  # noqa: S105 (a condition reason, not a password)
SECRET_KEY_MISSING: Final = "SecretKeyMissing"  # noqa: S105 (a condition reason, not a password)
AUTHENTICATION_FAILED: Final = "AuthenticationFailed"
DATABASE_NOT_FOUND: Final = "DatabaseNotFound"
UNREACHABLE: Final = "Unreachable"
TLS_ERROR: Final = "TLSError"
TIMEOUT: Final = "Timeout"
INVALID_SPEC: Final = "InvalidSpec"
PROBE_FAILED: Final = "ProbeFailed"

# Migration reasons.
PENDING: Final = "Pending"
WAITING_FOR_CONNECTION: Final = "WaitingForConnection"
WAITING_FOR_CONNECTION_SLOTS: Final = "WaitingForConnectionSlots"  # maxConnections: another Migration uses it
PLANNING: Final = "Planning"
PLAN_FAILED: Final = "PlanFailed"
AWAITING_APPROVAL: Final = "AwaitingApproval"
APPROVAL_STALE: Final = "ApprovalStale"
POLICY_VIOLATION: Final = "PolicyViolation"
TARGET_READ_ONLY: Final = "TargetReadOnly"
RUNNING: Final = "Running"
FOREIGN_KEYS_DEFERRED: Final = "ForeignKeysDeferred"
VALIDATING: Final = "Validating"
VALIDATION_FAILED: Final = "ValidationFailed"
SUCCEEDED: Final = "Succeeded"
JOB_FAILED: Final = "JobFailed"
SUSPENDED: Final = "Suspended"
OUTSIDE_WINDOW: Final = "OutsideWindow"  # spec.schedule.windows: waiting for the next window
ROLLING_BACK: Final = "RollingBack"
ROLLED_BACK: Final = "RolledBack"
RECONCILE_ERROR: Final = "ReconcileError"
DATABASE_UNAVAILABLE: Final = "DatabaseUnavailable"  # a database went away mid-copy; reconnecting
NOTIFICATIONS_DELIVERED: Final = "NotificationsDelivered"  # condition: the last notices reached their sinks
NOTIFICATION_RETRYING: Final = "NotificationRetrying"  # a delivery failed; retried with backoff
NOTIFICATION_FAILED: Final = "NotificationFailed"  # a delivery failed every attempt
DELIVERED: Final = "Delivered"
THROTTLED_BY_GUARD: Final = "ThrottledByGuard"  # copy.throttle.guard's metric is high: no new batches
ROLLBACK_ABANDONED: Final = "RollbackAbandoned"  # a delete-time rollback gave up on an unreachable target
ROLLBACK_WAITING: Final = "RollbackWaiting"  # a delete-time rollback waits for a database (first try)

# Migration reasons of online mode (change data capture, follow, cutover).
FOLLOWING: Final = "Following"
CUTTING_OVER: Final = "CuttingOver"
CUTOVER_AWAITING_APPROVAL: Final = "CutoverAwaitingApproval"
SOURCE_SCHEMA_CHANGED: Final = "SourceSchemaChanged"
NATIVE_APPLY_UNAVAILABLE: Final = "NativeApplyUnavailable"  # spec.online.apply: native cannot run
CAPTURE_NOT_READY: Final = "CaptureNotReady"
CAPTURE_STARTED: Final = "CaptureStarted"
CAPTURE_DROPPED: Final = "CaptureDropped"
SLOT_WAL_RETAINED: Final = "SlotWALRetained"
CAPTURE_HEALTHY: Final = "CaptureHealthy"  # also the condition type: the source capture holds no excess

# Project reasons.
NAMESPACE_READY: Final = "NamespaceReady"
NAMESPACE_OWNED_ELSEWHERE: Final = "NamespaceOwnedElsewhere"
NAMESPACE_NOT_FERRYS: Final = "NamespaceNotFerrys"
RECONCILED: Final = "Reconciled"

# DatabaseConnection reasons (appended).
SECRET_UNREADABLE: Final = "SecretUnreadable"  # noqa: S105 (a condition reason, not a password)

# DatabaseConnection reasons of the Project's connection rules (policy.connections) and of the
# drivers' refusal to send a password in clear text. The first two stall: only a change of the
# connection or of the Project's rules helps, and no network connection was opened.
HOST_NOT_ALLOWED: Final = "HostNotAllowed"
SECRET_NOT_ALLOWED: Final = "SecretNotAllowed"  # noqa: S105 (a condition reason, not a password)
CLEARTEXT_PASSWORD_REFUSED: Final = "CleartextPasswordRefused"  # noqa: S105 (a condition reason, not a password)
