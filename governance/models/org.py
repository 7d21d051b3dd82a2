from __future__ import annotations

import zoneinfo
from datetime import time

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.calendar import BusinessCalendar, public_holidays
from governance.choices import IdentitySource, MembershipRole
from kit.rules import RestrictedQuerySet


def _validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(gettext("“%(value)s” is not a known timezone (for example "
                                      "Europe/Berlin).") % {"value": value})


def _validate_workdays(value: str) -> None:
    if not value or any(c not in "1234567" for c in value) or len(set(value)) != len(value):
        raise ValidationError(gettext("Working days are ISO weekday digits, Monday = 1: for "
                                      "example 12345."))


def _default_timezone() -> str:
    return settings.TIME_ZONE


def _default_country() -> str:
    return settings.SRM_DEFAULT_COUNTRY


class User(AbstractUser):
    department = models.ForeignKey(
        "governance.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
        help_text=_("Home department: a request is charged to the requester's department."),
        verbose_name=_("department"),
    )
    is_ops_leader = models.BooleanField(
        _("ops leader"),
        default=False,
        help_text=_("Sees every department's accountability, delays and reports."),
    )
    timezone = models.CharField(
        max_length=64, blank=True, validators=[_validate_timezone],
        help_text=_("Times are shown in this timezone; empty means the organisation's."),
        verbose_name=_("timezone"),
    )
    language = models.CharField(
        _("language"), max_length=8, blank=True, choices=settings.LANGUAGES,
        help_text=_("Pages and e-mails are in this language; empty means the browser's."),
    )
    source = models.CharField(
        _("source"), max_length=8, choices=IdentitySource.choices, default=IdentitySource.LOCAL,
        help_text=_("Where this person's account and home department come from: typed in SRM "
                    "or the company's directory (which overwrites local edits at its next sync)."),
    )
    external_id = models.CharField(
        _("directory id"), max_length=255, blank=True,
        help_text=_("The directory's own id for this person (SCIM externalId, OIDC subject, "
                    "LDAP entryUUID); empty for local people."),
    )
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports",
        verbose_name=_("manager"),
        help_text=_("The manager the company directory names (the department's head decides "
                    "approvals)."),
    )
    directory_attributes = models.JSONField(
        _("as the directory sent it"), default=dict, blank=True,
        help_text=_("What SCIM provisioning sent about this person that SRM keeps as it came: "
                    "every e-mail address, the enterprise extension (department, cost centre, "
                    "employee number, manager …)."),
    )

    class Meta(AbstractUser.Meta):
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"],
                                    condition=~Q(external_id=""),
                                    name="user_external_id_unique"),
            models.CheckConstraint(condition=Q(source__in=IdentitySource.values),
                                   name="user_source_valid"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return str(self)


class DepartmentQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> DepartmentQuerySet:
        """``view``: the organisation chart is open to every signed-in person.
        ``accountability`` (the board, department pages, handoffs, the quarterly report): ops
        leaders and superusers every department; a head or deputy the departments they lead
        and every department below them; anyone else none. ``organisation`` (the organisation
        page: heads, deputies, members and where each fact came from, and its conflicts): ops
        leaders and superusers every department; anyone else none."""
        if action not in {"view", "accountability", "organisation"}:
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated:
            return self.none()
        if action == "view":
            return self
        if action == "organisation":
            return self if (user.is_superuser or user.is_ops_leader) else self.none()
        if user.is_superuser or user.is_ops_leader:
            return self  # every department (``accountability_scope_ids``), without reading them
        return self.filter(pk__in=accountability_scope_ids(user))


def accountability_scope_ids(user) -> set[int]:
    """The ids of ``restrict(user, "accountability")``, computed in Python: departments are
    a small table, so the tree is walked in memory rather than with recursive SQL."""
    if not user.is_authenticated:
        return set()
    tree = dict(Department.objects.values_list("pk", "parent_id"))
    if user.is_superuser or user.is_ops_leader:
        return set(tree)
    scope = set(Department.objects.filter(Q(head=user) | Q(deputy=user))
                .values_list("pk", flat=True))
    children: dict[int | None, list[int]] = {}
    for pk, parent in tree.items():
        children.setdefault(parent, []).append(pk)
    stack = list(scope)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in scope:
                scope.add(child)
                stack.append(child)
    return scope


class Department(models.Model):
    code = models.CharField(max_length=40, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    cost_centre = models.CharField(max_length=40, blank=True, verbose_name=_("cost centre"))
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("parent"),
    )
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="headed_departments",
        help_text=_("The one person accountable for this department's steps and delays."),
        verbose_name=_("head"),
    )
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deputised_departments",
        verbose_name=_("deputy"),
    )
    timezone = models.CharField(
        max_length=64, default=_default_timezone, validators=[_validate_timezone],
        verbose_name=_("timezone"),
    )
    work_start = models.TimeField(default=time(9, 0), verbose_name=_("work start"))
    work_end = models.TimeField(
        default=time(17, 0),
        help_text=_("00:00 means midnight at the end of the day (00:00–00:00 on every day is a "
                  "round-the-clock service desk)."),
        verbose_name=_("work end"),
    )
    work_days = models.CharField(
        max_length=7, default="12345", validators=[_validate_workdays],
        help_text=_("ISO weekday digits, Monday = 1."),
        verbose_name=_("work days"),
    )
    holiday_country = models.CharField(
        max_length=3, blank=True, default=_default_country,
        help_text=_("Public holidays of this country (ISO code) are not business time."),
        verbose_name=_("holiday country"),
    )
    holiday_subdivision = models.CharField(
        max_length=10,
        blank=True,
        verbose_name=_("holiday subdivision"),
    )
    source = models.CharField(
        _("source"), max_length=8, choices=IdentitySource.choices, default=IdentitySource.LOCAL,
        help_text=_("Where the department itself (name, code, parent) comes from."),
    )
    external_id = models.CharField(
        _("directory id"), max_length=255, blank=True,
        help_text=_("The directory group's id this department is provisioned from (SCIM "
                    "externalId, LDAP group DN); empty for local departments."),
    )
    head_source = models.CharField(
        _("head named by"), max_length=8, choices=IdentitySource.choices,
        default=IdentitySource.LOCAL,
        help_text=_("Whether the head was named in SRM or by the directory."),
    )

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(work_end__gt=models.F("work_start"))
                | models.Q(work_end=time(0)),
                name="department_working_day_not_empty",
            ),
            models.UniqueConstraint(fields=["source", "external_id"],
                                    condition=~Q(external_id=""),
                                    name="department_external_id_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.deputy_id and self.deputy_id == self.head_id:
            raise ValidationError({"deputy": _("The deputy must be someone other than the head.")})
        if self.holiday_country:
            try:
                public_holidays(self.holiday_country, self.holiday_subdivision, 2026)
            except NotImplementedError as exc:
                raise ValidationError(
                    {"holiday_country": gettext("No holiday calendar for %(country)s.")
                     % {"country": self.holiday_country}}
                ) from exc

    @property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(
            timezone=self.timezone,
            day_start=self.work_start,
            day_end=self.work_end,
            workdays=frozenset(int(c) for c in self.work_days),
            country=self.holiday_country,
            subdiv=self.holiday_subdivision,
        )


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships",
        verbose_name=_("user"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("department"),
    )
    role = models.CharField(
        max_length=16,
        choices=MembershipRole.choices,
        default=MembershipRole.MEMBER,
        verbose_name=_("role"),
    )
    source = models.CharField(
        _("source"), max_length=8, choices=IdentitySource.choices, default=IdentitySource.LOCAL,
        help_text=_("Whether the directory (a group's members) or SRM made this membership."),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "department"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=MembershipRole.values), name="membership_role_valid"
            ),
        ]
        indexes = [models.Index(fields=["department", "role"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.department} ({self.get_role_display()})"
