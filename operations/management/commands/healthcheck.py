"""``manage.py healthcheck``: the checks of the health endpoints from a shell, for container
health checks of the processes that serve no HTTP (docker-compose.yml). Prints the result as
one JSON line; exits 1 when a check failed.

- (no option) readiness: database, broker, cache, migrations (``/healthz/ready``);
- ``--worker``: this host's Celery worker answers a ping through the broker;
- ``--beat``: this host's Celery beat ticked within ``SRM_HEALTH_BEAT_MAX_AGE``;
- ``--jobs``: the background work (``/healthz/jobs``): worker heartbeat, outbox, delay scan,
  imports.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from operations import health


class Command(BaseCommand):
    help = "Check readiness, this host's worker or beat, or the background jobs (exit 1: failed)."

    def add_arguments(self, parser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--worker", action="store_true",
                           help="this host's Celery worker answers a ping")
        which.add_argument("--beat", action="store_true", help="this host's Celery beat ticks")
        which.add_argument("--jobs", action="store_true",
                           help="the background jobs, as /healthz/jobs reports them")
        parser.add_argument("--node", default="",
                            help="the worker's node name (default: celery@<this host>)")

    def handle(self, *args, worker: bool, beat: bool, jobs: bool, node: str, **options) -> None:
        if worker:
            checks = {"worker": health.worker_ping(node or health.default_node())}
        elif beat:
            checks = {"beat": health.beat_alive()}
        elif jobs:
            checks = health.jobs()
        else:
            checks = health.ready()
        failed = sorted(name for name, check in checks.items() if not check.ok)
        self.stdout.write(json.dumps({
            "status": "fail" if failed else "ok", "failed": failed,
            "checks": {name: check.as_dict() for name, check in checks.items()}}))
        if failed:
            raise CommandError(f"unhealthy: {', '.join(failed)}", returncode=1)
