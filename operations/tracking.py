"""Optional error tracking (Sentry or a compatible service), on only when ``SENTRY_DSN`` is
set: ``srm.settings`` calls ``error_tracking_init`` then, and only then is ``sentry_sdk``
imported, so a deployment without it never loads it. Each event carries the request id
(``operations.context``) the log lines carry, so an event and its log lines find each other.
"""

from __future__ import annotations

from operations import context


def tag_request_id(event: dict, hint: dict) -> dict:
    request_id = context.request_id.get()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def error_tracking_init(*, dsn: str, environment: str = "", traces_sample_rate: float = 0.0,
                        transport=None) -> None:
    # Imported here, not at the top: the SDK is loaded only where it is configured.
    import sentry_sdk  # noqa: PLC0415
    from sentry_sdk.integrations.celery import CeleryIntegration  # noqa: PLC0415
    from sentry_sdk.integrations.django import DjangoIntegration  # noqa: PLC0415

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,  # no user names, e-mail addresses or cookies leave the site
        before_send=tag_request_id,
        transport=transport,
    )
