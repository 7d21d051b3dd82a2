"""Reads for the KPI pages. They read snapshot tables only, never the requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Min, OuterRef, Prefetch, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext as _

from kpis.choices import KPIStatus
from kpis.models import KPISnapshot, OutcomeKPI


def realization_periods() -> int:
    return int(getattr(settings, "SRM_KPI_REALIZATION_PERIODS", 4))


@dataclass(frozen=True)
class Realization:
    """Value realised: the first week from which the KPI met its target for ``periods``
    consecutive weeks, and how long after go-live that was."""

    realised_on: date | None
    go_live: date | None
    periods: int

    @property
    def days_after_go_live(self) -> int | None:
        if self.realised_on is None or self.go_live is None:
            return None
        return (self.realised_on - self.go_live).days


def realization_of(kpi: OutcomeKPI, snapshots: list[KPISnapshot], *, go_live: datetime | None,
                   periods: int | None = None) -> Realization:
    """Snapshots oldest first. A week without a snapshot breaks the run."""
    periods = periods or realization_periods()
    run_start, run_length, previous = None, 0, None
    for snap in snapshots:
        contiguous = previous is not None and snap.period_start - previous == timedelta(days=7)
        if kpi.meets_target(snap.value):
            if not contiguous or run_length == 0:
                run_start, run_length = snap.period_start, 0
            run_length += 1
            if run_length >= periods:
                break
        else:
            run_start, run_length = None, 0
        previous = snap.period_start
    realised = run_start if run_length >= periods else None
    return Realization(realised_on=realised, go_live=go_live.date() if go_live else None,
                       periods=periods)


def kpis_for(user) -> QuerySet[OutcomeKPI]:
    """Every KPI the user may see, with its latest value, go-live and snapshots (2 queries)."""
    latest = KPISnapshot.objects.filter(kpi=OuterRef("pk")).order_by("-period_start")
    return (
        OutcomeKPI.objects.restrict(user, "view")
        .select_related("owner_department", "owner_department__head")
        .annotate(
            latest_value=Subquery(latest.values("value")[:1]),
            latest_period=Subquery(latest.values("period_start")[:1]),
            go_live=Subquery(
                OutcomeKPI.objects.filter(pk=OuterRef("pk"))
                .annotate(first=Min("catalog_items__published_at")).values("first")[:1]
            ),
        )
        .prefetch_related(
            Prefetch("snapshots", queryset=KPISnapshot.objects.order_by("period_start"),
                     to_attr="history")
        )
    )


SPARK_WEEKS = 12


@dataclass(frozen=True)
class KPIRow:
    kpi: OutcomeKPI
    latest_value: Decimal | None
    latest_period: date | None
    status: str
    status_label: str
    realization: Realization
    history: list[KPISnapshot]

    @property
    def recent(self) -> list[KPISnapshot]:
        """The last weeks of the history: the list's sparkline."""
        return self.history[-SPARK_WEEKS:]

    @property
    def spark(self) -> str:
        """The recent values as plain numbers for the sparkline's script (never localised)."""
        return ",".join(f"{s.value:f}" for s in self.recent)


def kpi_rows(user, *, ids: list[int] | None = None) -> list[KPIRow]:
    kpis = kpis_for(user)
    if ids is not None:
        kpis = kpis.filter(pk__in=ids)
    rows = []
    for kpi in kpis:
        status = kpi.status_for(kpi.latest_value)
        rows.append(KPIRow(
            kpi=kpi, latest_value=kpi.latest_value, latest_period=kpi.latest_period,
            status=status, status_label=KPIStatus(status).label,
            realization=realization_of(kpi, kpi.history, go_live=kpi.go_live),
            history=kpi.history,
        ))
    return rows


def kpi_row(user, pk: int) -> KPIRow:
    """One KPI's row, or 404 when the user may not see it."""
    rows = kpi_rows(user, ids=[pk])
    if not rows:
        raise Http404(_("No such KPI."))
    return rows[0]
