import time

import environ
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from tqdm import tqdm

from demo.load import generate


class Command(BaseCommand):
    help = (
        "Bulk-load an enterprise-sized data set for the benchmarks: 200 departments, 50,000 "
        "people, 300 catalog items and N requests over two years with their steps, delay risks "
        "and audit events. Needs a freshly migrated database; deterministic for a seed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, required=True, help="How many requests.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--people", type=int, default=50_000, help="How many people.")
        parser.add_argument(
            "--database-url",
            help="Load this database (migrated first) instead of the configured one.",
        )

    def handle(self, *args, requests: int, seed: int, people: int, database_url: str | None,
               **options):
        using = "default"
        if database_url:
            using = "generate_load"
            # The default's settings for the keys Django expects, none of its backend options.
            connections.databases[using] = {
                **connections.databases["default"], "OPTIONS": {},
                **environ.Env.db_url_config(database_url),
            }
            call_command("migrate", database=using, verbosity=0, interactive=False)
        started = time.monotonic()
        with tqdm(total=requests, desc="Requests", unit="req",
                  disable=options["verbosity"] == 0) as bar:
            try:
                counts = generate(requests=requests, seed=seed, using=using, people=people,
                                  progress=bar.update)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{value:,} {name.replace('_', ' ')}" for name, value in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Loaded {summary} in {elapsed:.0f} s."))
