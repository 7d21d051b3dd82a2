"""gunicorn's settings for SRM (read from the working directory: `gunicorn srm.wsgi`).

Threaded workers (gthread): a request waiting on a slow dependency holds one thread, not a
whole process, so a few slow requests cannot block every worker (docs/operations.md,
"Web tier"). Requests never wait on the broker (the task outbox) and each database statement
of a web request is cut off after SRM_DB_STATEMENT_TIMEOUT (10 s here), under the worker
timeout, so a hung query answers 503 instead of having its worker killed.
"""

import glob
import multiprocessing
import os
import shutil
import tempfile

# Web requests only: workers and beat run long reports and imports without it.
os.environ.setdefault("SRM_DB_STATEMENT_TIMEOUT", "10s")
# Each worker process writes its request metrics into this folder and /metrics adds them up
# (prometheus_client's multiprocess mode); set before prometheus_client is imported.
_OWN_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="srm-metrics-")

from prometheus_client import multiprocess  # noqa: E402 - reads the folder set just above

from operations.logs import logging_config  # noqa: E402 - SRM's one logging configuration

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A request still running after this is killed with its worker (the statement timeout and
# the broker timeouts are far below it).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (memory fragmentation of long-lived processes).
max_requests = 5000
max_requests_jitter = 500
# The access line comes from SRM itself (logger srm.access: status, duration, request id,
# user), in the same format and clock as every other line; gunicorn's own lines too.
accesslog = None
# GUNICORN_LOG_LEVEL=WARNING (make run) leaves out gunicorn's start-up and worker lines.
logconfig_dict = logging_config(
    fmt=os.environ.get("SRM_LOG_FORMAT", "text"),
    extra_loggers={"gunicorn.error": {"handlers": ["console"],
                                      "level": os.environ.get("GUNICORN_LOG_LEVEL", "INFO"),
                                      "propagate": False}})


def on_starting(server):
    """Samples of a previous run of the server do not count in this one."""
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for stale in glob.glob(os.path.join(folder, "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _OWN_METRICS_DIR:  # the folder this start made for itself
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
