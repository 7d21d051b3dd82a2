"""Writes on KPIs: the weekly snapshots (computed) and measurements entered by hand.

A computed KPI's value for a week is measured in SQL over the requests of the catalog items
that serve it (see docs/accountability.md for each definition). Snapshots are upserted on
``(kpi, period_start)``, so running the job twice, or backfilling over weeks that already
have snapshots, leaves exactly one row per KPI and week with the latest value.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Avg, Count, F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.choices import AuditVerb
from governance.errors import NotAllowed, ValidationFailed
from governance.models import User
from governance.periods import complete_weeks, start_of, week_start
from governance.services.audit import audit_record
from governance.sqlstats import HoursBetween, percentiles
from kpis.choices import Measure, SnapshotSource
from kpis.models import KPISnapshot, OutcomeKPI
from requests_app.choices import RequestState
from requests_app.models import ServiceRequest

CENT = Decimal("0.01")
# Measures whose "nothing happened" is a real zero rather than "no data".
_ZERO_WHEN_EMPTY = {Measure.OPEN_BACKLOG, Measure.THROUGHPUT}


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def kpi_values_for_period(
    *, kpis: list[OutcomeKPI], period_start: date
) -> dict[int, tuple[Decimal, int]]:
    """``{kpi id: (value, sample size)}`` for the week starting ``period_start``; a KPI with
    nothing to measure that week is absent. Three queries, whatever the number of KPIs."""
    start = start_of(period_start)
    end = start_of(period_start + timedelta(days=7))
    ids = [k.pk for k in kpis if not k.is_manual]
    if not ids:
        return {}
    of_kpis = ServiceRequest.objects.filter(item__kpi__in=ids)
    fulfilled = of_kpis.filter(
        state=RequestState.FULFILLED, closed_at__gte=start, closed_at__lt=end
    )
    delivered = {
        row["item__kpi"]: row
        for row in fulfilled.values("item__kpi").order_by().annotate(
            n=Count("pk"),
            on_time=Count("pk", filter=Q(closed_at__lte=F("due_at"))),
            cost=Avg("estimated_cost"),
            costed=Count("estimated_cost"),
        )
    }
    medians = percentiles(
        fulfilled, group_by=["item__kpi"], value=HoursBetween("submitted_at", "closed_at"),
        fractions=(0.5,),
    )
    backlog = dict(
        of_kpis.filter(submitted_at__lt=end)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=end))
        .values("item__kpi").order_by().annotate(n=Count("pk")).values_list("item__kpi", "n")
    )
    values: dict[int, tuple[Decimal, int]] = {}
    for kpi in kpis:
        if kpi.is_manual:
            continue
        row = delivered.get(kpi.pk)
        n = row["n"] if row else 0
        if kpi.measure == Measure.MEDIAN_CYCLE_TIME and (kpi.pk,) in medians:
            values[kpi.pk] = (_money(medians[(kpi.pk,)][0.5]), n)
        elif kpi.measure == Measure.ON_TIME_RATE and n:
            values[kpi.pk] = (_money(Decimal(100 * row["on_time"]) / n), n)
        elif kpi.measure == Measure.COST_PER_REQUEST and row and row["costed"]:
            values[kpi.pk] = (_money(row["cost"]), row["costed"])
        elif kpi.measure == Measure.THROUGHPUT:
            values[kpi.pk] = (Decimal(n).quantize(CENT), n)
        elif kpi.measure == Measure.OPEN_BACKLOG:
            count = backlog.get(kpi.pk, 0)
            values[kpi.pk] = (Decimal(count).quantize(CENT), count)
    return values


def kpi_snapshot_period(*, period_start: date, kpis: list[OutcomeKPI] | None = None,
                        at: datetime | None = None) -> int:
    """Compute and upsert the snapshots of every computed KPI for one week. Returns how many
    snapshots were written. Weeks before a KPI's go-live get no zero-valued snapshots."""
    period_start = week_start(period_start)
    if kpis is None:
        kpis = list(
            OutcomeKPI.objects.exclude(measure=Measure.MANUAL)
            .annotate(go_live=Min("catalog_items__published_at"))
        )
    at = at or timezone.now()
    end = period_start + timedelta(days=7)
    values = kpi_values_for_period(kpis=kpis, period_start=period_start)
    rows = []
    for kpi in kpis:
        if kpi.pk not in values:
            continue
        go_live = getattr(kpi, "go_live", None)
        if kpi.measure in _ZERO_WHEN_EMPTY and (go_live is None or go_live >= start_of(end)):
            continue
        value, n = values[kpi.pk]
        rows.append(KPISnapshot(kpi=kpi, period_start=period_start, period_end=end, value=value,
                                sample_size=n, source=SnapshotSource.COMPUTED, computed_at=at))
    KPISnapshot.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["kpi", "period_start"],
        update_fields=["period_end", "value", "sample_size", "source", "computed_at"],
    )
    return len(rows)


def snapshots_compute(*, until: datetime | None = None, weeks_back: int = 2) -> int:
    """Snapshot every computed KPI for the ``weeks_back`` complete weeks before ``until``
    (default now). Idempotent; the daily job recomputes the last two weeks so late closures
    land in the right week. Returns the number of snapshots written."""
    if weeks_back < 1:
        raise ValidationFailed(_("Backfill at least one week."), code="weeks_back")
    kpis = list(
        OutcomeKPI.objects.exclude(measure=Measure.MANUAL)
        .annotate(go_live=Min("catalog_items__published_at"))
    )
    at = timezone.now()
    written = 0
    for monday in complete_weeks(until=until, weeks_back=weeks_back):
        with transaction.atomic():
            written += kpi_snapshot_period(period_start=monday, kpis=kpis, at=at)
    return written


@transaction.atomic
def kpi_measurement_record(*, actor: User, kpi: OutcomeKPI, period_start: date,
                           value: Decimal) -> KPISnapshot:
    """The owner department's head (or deputy) enters a manual KPI's value for a week."""
    if not OutcomeKPI.objects.restrict(actor, "record").filter(pk=kpi.pk).exists():
        if not kpi.is_manual:
            raise ValidationFailed(_("“%(kpi)s” is computed from requests; it takes no entries.")
                                   % {"kpi": kpi},
                                   code="kpi_computed")
        raise NotAllowed(_("Only the head or deputy of %(department)s can enter “%(kpi)s”.")
                         % {"department": kpi.owner_department, "kpi": kpi},
                         code="not_kpi_owner")
    period_start = week_start(period_start)
    if start_of(period_start) > timezone.now():
        raise ValidationFailed(_("That week has not started yet."), code="period_future",
                               field_errors={"period_start": [_("Choose this week or an earlier one.")]})
    value = _money(value)
    snapshot = KPISnapshot.objects.select_for_update().filter(kpi=kpi, period_start=period_start).first()
    previous = snapshot.value if snapshot else None
    snapshot, _created = KPISnapshot.objects.update_or_create(
        kpi=kpi, period_start=period_start,
        defaults={"period_end": period_start + timedelta(days=7), "value": value,
                  "sample_size": 0, "source": SnapshotSource.ENTERED, "entered_by": actor,
                  "computed_at": timezone.now()},
    )
    audit_record(actor=actor, verb=AuditVerb.KPI_MEASUREMENT_RECORDED, target=kpi,
                 data={"period_start": period_start, "value": value, "previous": previous})
    return snapshot
