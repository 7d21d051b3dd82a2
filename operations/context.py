"""What a log line knows about where it comes from: the request id (from ``X-Request-ID`` or
generated, carried into the Celery tasks a request enqueues), the user and the request
reference. Context variables, so threads (gthread workers) and tasks never mix them up."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("srm_request_id", default="")
user_id: ContextVar[int | None] = ContextVar("srm_user_id", default=None)
reference: ContextVar[str] = ContextVar("srm_reference", default="")
# The request being answered (log lines read its user once it is authenticated).
request: ContextVar[object | None] = ContextVar("srm_request", default=None)

# A client's id is accepted when it is short and plain, so it cannot forge log lines.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

# The header a task message carries the id in.
TASK_HEADER = "srm_request_id"


def new_request_id(offered: str | None = None) -> str:
    if offered and _ACCEPTABLE.match(offered):
        return offered
    return uuid.uuid4().hex
