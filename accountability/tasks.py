"""Celery tasks: thin wrappers that call a service. Scheduled in ``CELERY_BEAT_SCHEDULE``
(srm/settings.py), the one place the periodic jobs are declared.

All follow SRM's one task policy (``kit.tasks``: late acknowledgement, retries of transient
database failures): each is safe to run twice — the scan under its lock and constraint,
delivery under row locks and the sent marker, digests under their unique keys, figures
recomputed whole, reminders once a day per head, an import skipping rows it already
imported. A delivery asked for on commit expires after an hour: the sweep delivers those
rows anyway.

Until release 1.2 each task also answers to the name it had when it lived in ``governance``
(``governance.tasks.*``, ``governance.tasks_plans.*``), so messages queued before the
upgrade still run; see ``LEGACY_NAMES``.
"""

from __future__ import annotations

from django.conf import settings

from accountability import figures, monitoring
from accountability.mailin import imap
from accountability.services import digests, legacy_import, notifications, plans, replies
from kit.tasks import task as srm_task

# New name -> the name the task had before it moved (kept for one release).
LEGACY_NAMES: dict[str, str] = {}


def task(*, legacy: str, **options):
    """A task of SRM's one policy (kit.tasks) named ``accountability.tasks.<function>``,
    also registered under its previous name ``legacy`` with the same options."""

    def register(fn):
        srm_task(name=legacy, **options)(fn)
        name = f"{__name__}.{fn.__name__}"
        LEGACY_NAMES[name] = legacy
        return srm_task(name=name, **options)(fn)

    return register


@task(legacy="governance.tasks.flag_delays", soft_time_limit=50, time_limit=55)
def flag_delays() -> str:
    return str(monitoring.delay_scan_run())


@task(legacy="governance.tasks.deliver_notifications", soft_time_limit=120, time_limit=150, expires=3600)
def deliver_notifications(ids: list[int] | None = None) -> dict:
    """Deliver these notification rows now, or (no ids: the beat sweep) every pending one
    that is due."""
    return vars(notifications.notifications_deliver(ids=ids))


@task(legacy="governance.tasks.send_digests", soft_time_limit=240, time_limit=300)
def send_digests() -> dict:
    return vars(digests.digests_send())


@srm_task(name="accountability.tasks.send_daily_summaries", soft_time_limit=240, time_limit=300)
def send_daily_summaries() -> int:
    """One e-mail per approver who chose a daily summary of what waits for them."""
    return notifications.daily_summaries_send()


@task(legacy="governance.tasks.refresh_figures", soft_time_limit=240, time_limit=280)
def refresh_figures() -> dict:
    """Recompute the accountability pages' stored figures (docs/accountability.md)."""
    return figures.refresh_figures()


@task(legacy="governance.tasks.refresh_open_work", soft_time_limit=50, time_limit=55)
def refresh_open_work() -> int:
    """Recount the board's open work (open and overdue steps, open risks, exposure)."""
    return figures.refresh_open_work()


@task(legacy="governance.tasks_plans.remind_overdue_retirements", soft_time_limit=120, time_limit=180)
def remind_overdue_retirements() -> int:
    """Daily: tell each owning head about their overdue retirements (once a day at most)."""
    return plans.workflows_remind_overdue()


# A 100,000-row file takes minutes; the limits (settings) stay under the broker's visibility
# timeout. A worker that dies mid-import has the task redelivered (late acknowledgement), and
# the run takes the job over once its heartbeat is stale; the reaper covers a lost message.
@task(legacy="governance.tasks_plans.run_legacy_import",
      soft_time_limit=settings.SRM_IMPORT_SOFT_TIME_LIMIT,
      time_limit=settings.SRM_IMPORT_TIME_LIMIT)
def run_legacy_import(job_id: int) -> None:
    legacy_import.import_job_run(job_id=job_id)


@srm_task(soft_time_limit=50, time_limit=55)
def reap_imports() -> dict:
    """Re-queue imports whose worker died; fail them after SRM_IMPORT_MAX_ATTEMPTS."""
    return legacy_import.import_jobs_reap()


@srm_task(soft_time_limit=240, time_limit=280)
def purge_import_files() -> int:
    """Delete the uploads of ended imports (a failed one's after SRM_IMPORT_KEEP_FAILED_DAYS)."""
    return legacy_import.import_files_purge()


@srm_task(name="accountability.tasks.answer_inbound_mail", soft_time_limit=60, time_limit=90,
          expires=3600)
def answer_inbound_mail(inbound_id: int | None = None) -> int:
    """Send the short answer to one message that came in on the reply address, or (no id:
    the sweep) every answer still waiting."""
    if inbound_id is None:
        return replies.inbound_answers_send()
    return int(replies.inbound_answer_send(inbound_id=inbound_id) == "sent")


@srm_task(name="accountability.tasks.poll_reply_mailbox", soft_time_limit=240, time_limit=300)
def poll_reply_mailbox() -> dict:
    """Read the replies to approval e-mails waiting in the IMAP mailbox (SRM_IMAP_*), then
    send the answers still waiting."""
    result = vars(imap.reply_mailbox_poll())
    result["answered"] = replies.inbound_answers_send()
    return result
