"""Celery signal receivers: a task's log lines carry the id of the request that enqueued it."""

from __future__ import annotations

from celery.signals import before_task_publish, task_postrun, task_prerun

from operations import context


@before_task_publish.connect
def _task_published(headers=None, **_kwargs) -> None:
    """A task sent while a request is answered carries its id (the outbox sends the id it
    stored with the row itself, from its own thread)."""
    request_id = context.request_id.get()
    if headers is not None and request_id and not headers.get(context.TASK_HEADER):
        headers[context.TASK_HEADER] = request_id


@task_prerun.connect
def _task_started(task=None, **_kwargs) -> None:
    request_id = getattr(task.request, context.TASK_HEADER, None) if task else None
    if request_id is None and task is not None:
        request_id = (task.request.headers or {}).get(context.TASK_HEADER)
    context.request_id.set(request_id or "")


@task_postrun.connect
def _task_finished(**_kwargs) -> None:
    context.request_id.set("")
