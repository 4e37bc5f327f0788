"""Notifications (a Project's, or a Migration's own `spec.notifications`): where to tell people
that a Migration changed state, in which format, signed or not."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from ferry.api.base import ApiModel, ObjectName, SecretKeyReference


class NotificationEvent(StrEnum):
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ROLLED_BACK = "RolledBack"
    AWAITING_APPROVAL = "AwaitingApproval"
    STALLED = "Stalled"  # any reason: policy, plan errors, a changed source table, repeated errors
    FOLLOWING = "Following"  # online: the copy is done and the target follows the source
    PHASE_CHANGED = "PhaseChanged"  # every phase change (the ones above included)


class NotificationFormat(StrEnum):
    JSON = "json"  # the whole event as a JSON object (for your own receiver)
    SLACK = "slack"  # {"text": ...}: Slack, Mattermost, Rocket.Chat and Teams workflow webhooks
    CLOUDEVENTS = "cloudevents"  # a CloudEvents 1.0 event in structured JSON mode


class Notification(ApiModel):
    """A webhook told about transitions of the project's Migrations."""

    name: ObjectName = Field(
        description="The notification's name, unique in the project (in logs and events)."
    )
    webhook_secret_ref: SecretKeyReference = Field(
        description="The Secret key (in the project's namespace) holding the webhook URL: such URLs "
        "carry their own token, so they are never written in the Project."
    )
    events: list[NotificationEvent] = Field(
        default_factory=lambda: [
            NotificationEvent.SUCCEEDED, NotificationEvent.FAILED, NotificationEvent.STALLED,
            NotificationEvent.AWAITING_APPROVAL,
        ],
        max_length=8,
        description="Which transitions of the project's Migrations are sent.",
    )  # fmt: skip
    format: NotificationFormat = Field(
        default=NotificationFormat.JSON,
        description='json: the whole event as a JSON object; slack: {"text": ...} for Slack, Mattermost, '
        "Rocket.Chat and Teams workflow webhooks; cloudevents: a CloudEvents 1.0 structured JSON event.",
    )
    signing_key_secret_ref: SecretKeyReference | None = Field(
        default=None,
        description="A key (in a Secret of the namespace) to sign each body with: the request carries "
        "X-Ferry-Signature: sha256=<hex HMAC-SHA256 of the body>. Unset: unsigned.",
    )
