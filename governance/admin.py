from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.choices import TokenRevokedBecause
from governance.errors import DomainError
from governance.models import (
    ApiToken,
    AuditEvent,
    Department,
    IdentityProvider,
    LoginLockout,
    Membership,
    ScimToken,
    User,
)
from governance.services.calendar import CALENDAR_FIELDS, department_calendar_changed
from governance.services.logins import login_lockout_unlock
from governance.services.org import department_set_head, user_deactivate, user_move_department
from governance.services.tokens import api_token_revoke, scim_token_revoke


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written only by services (audit trail, delay scan, outbox): the admin looks, never edits."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RefusalsAsMessages:
    """A change the organisation services refuse (a leaver nobody can stand in for, a head
    whose own request has nobody above to decide it) is rolled back whole and shown as an
    error message on the same page, never a 500."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as refused:
            self.message_user(request, refused.message, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(RefusalsAsMessages, BaseUserAdmin):
    list_display = ["username", "get_full_name", "email", "department", "is_ops_leader", "is_active"]
    list_filter = ["is_ops_leader", "is_staff", "is_active", "department"]
    search_fields = ["username", "first_name", "last_name", "email"]
    list_select_related = ["department"]
    autocomplete_fields = ["department"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Organisation", {"fields": ("department", "is_ops_leader", "timezone", "language")}),
        (_("Directory"), {"fields": ("source", "external_id")}),
    )
    readonly_fields = ["source", "external_id"]

    def save_model(self, request, obj, form, change):
        # A leaver goes through user_deactivate, in the change view's transaction: what was
        # accountable to them moves on, their delegations end, all audited (or, when nobody
        # can take over, the whole change is refused). A move to another department goes
        # through user_move_department the same way.
        leaves = change and "is_active" in form.changed_data and not obj.is_active
        moves = change and "department" in form.changed_data
        if leaves:
            obj.is_active = True
        new_department = obj.department
        if moves:
            obj.department = User.objects.get(pk=obj.pk).department
        super().save_model(request, obj, form, change)
        if moves:
            user_move_department(actor=request.user, user=obj, department=new_department)
            obj.refresh_from_db()
        if leaves:
            user_deactivate(actor=request.user, user=obj)
            obj.refresh_from_db()


class DepartmentForm(forms.ModelForm):
    correct_from = forms.DateField(
        required=False, label=_("Correct posted delay time from"),
        help_text=_("Leave empty when the calendar changes from now on. To correct a mistake "
                    "(a forgotten holiday, wrong working hours), give the first day it was wrong: "
                    "delay time posted since then is measured again under the new calendar and "
                    "the difference posted to the ledger, as an adjustment where a quarter has "
                    "closed."),
    )

    class Meta:
        model = Department
        fields = ["code", "name", "cost_centre", "parent", "head", "deputy", *CALENDAR_FIELDS]

    def clean_head(self):
        head = self.cleaned_data.get("head")
        if self.instance.pk and self.instance.head_id and head is None:
            raise forms.ValidationError(_("A department keeps a head: name the new one."))
        if head is not None and "head" in self.changed_data and not head.is_active:
            raise forms.ValidationError(
                gettext("%(head)s cannot sign in, so cannot head a department.") % {"head": head})
        return head

    def clean_correct_from(self):
        value = self.cleaned_data.get("correct_from")
        if value is None:
            return value
        if not self.instance.pk:
            raise forms.ValidationError(_("A new department has no posted delay time to correct."))
        if value > timezone.localdate():
            raise forms.ValidationError(_("A correction cannot start in the future."))
        if not set(CALENDAR_FIELDS) & set(self.changed_data):
            raise forms.ValidationError(
                _("Nothing to correct: change the business calendar above, then give the day "
                  "it was first wrong."))
        return value


@admin.register(Department)
class DepartmentAdmin(RefusalsAsMessages, admin.ModelAdmin):
    form = DepartmentForm
    list_display = ["code", "name", "cost_centre", "head", "deputy", "parent", "timezone",
                    "holiday_country"]
    list_filter = ["holiday_country", "timezone"]
    search_fields = ["code", "name", "cost_centre"]
    list_select_related = ["head", "deputy", "parent"]
    autocomplete_fields = ["head", "deputy", "parent"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("code", "name", "cost_centre", "parent")}),
        (_("Accountability"), {"fields": ("head", "deputy")}),
        (_("Business calendar"), {"fields": (*CALENDAR_FIELDS, "correct_from")}),
        (_("Directory"), {"fields": ("source", "external_id", "head_source")}),
    )
    readonly_fields = ["source", "external_id", "head_source"]

    def save_model(self, request, obj, form, change):
        # The change view runs in one transaction: the calendar, its audit event and any
        # correction posted to the ledger commit together; so do a new head, the open steps
        # that move to them and their audit events.
        before = Department.objects.get(pk=obj.pk) if change else None
        new_head = obj.head
        head_changed = before is not None and "head" in form.changed_data
        if head_changed:
            obj.head = before.head  # changes only through department_set_head, below
        super().save_model(request, obj, form, change)
        if before is not None and set(CALENDAR_FIELDS) & set(form.changed_data):
            department_calendar_changed(department=obj, old=before.calendar, actor=request.user,
                                        correct_from=form.cleaned_data.get("correct_from"))
        if head_changed:
            department_set_head(actor=request.user, department=obj, head=new_head)
            obj.refresh_from_db()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "department", "role"]
    list_filter = ["role", "department"]
    search_fields = ["user__username", "user__last_name", "department__name", "department__code"]
    list_select_related = ["user", "department"]
    autocomplete_fields = ["user", "department"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["created_at", "verb", "object_repr", "actor", "on_behalf_of", "from_state",
                    "to_state"]
    list_filter = ["verb", "content_type"]
    search_fields = ["object_repr", "correlation", "actor__username", "verb"]
    date_hierarchy = "created_at"
    list_select_related = ["actor", "on_behalf_of"]
    show_full_result_count = False


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Every API token, never its secret (only a keyed hash is stored, and not shown either).
    Tokens are created on their owner's API tokens page or with ``create_api_token``."""

    list_display = ["name", "user", "prefix_shown", "created_at", "expires_at", "last_used_at",
                    "usable", "revoked_at", "revoked_reason"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "revoked_reason"]
    search_fields = ["name", "user__username", "user__last_name", "prefix"]
    list_select_related = ["user"]
    exclude = ["digest"]
    date_hierarchy = "created_at"
    actions = ["revoke"]

    @admin.display(description=_("Starts with"))
    def prefix_shown(self, obj: ApiToken) -> str:
        return f"{obj.prefix}…"

    @admin.display(boolean=True, description="Usable")
    def usable(self, obj: ApiToken) -> bool:
        return obj.is_usable

    @admin.action(description=_("Revoke: stop these tokens working now"), permissions=["revoke"])
    def revoke(self, request, queryset):
        revoked = sum(api_token_revoke(token=token, actor=request.user,
                                       because=TokenRevokedBecause.ADMINISTRATOR)
                      for token in queryset.select_related("user"))
        self.message_user(request, f"{revoked} token(s) revoked.")

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("governance.change_apitoken")


@admin.register(LoginLockout)
class LoginLockoutAdmin(ReadOnlyAdmin):
    """Sign-in lockouts (written by the sign-in check); an administrator unlocks them here."""

    list_display = ["started_at", "scope", "username", "ip_address", "failures", "until",
                    "in_force", "unlocked_at", "unlocked_by"]
    list_filter = ["scope", ("unlocked_at", admin.EmptyFieldListFilter)]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "started_at"
    list_select_related = ["unlocked_by"]
    actions = ["unlock"]

    @admin.display(boolean=True, description=_("In force"))
    def in_force(self, obj: LoginLockout) -> bool:
        return obj.is_in_force

    @admin.action(description=_("Unlock: allow sign-ins again at once"), permissions=["unlock"])
    def unlock(self, request, queryset):
        unlocked = sum(login_lockout_unlock(lockout=lockout, actor=request.user)
                       for lockout in queryset)
        self.message_user(request, f"{unlocked} lockout(s) lifted.")

    def has_unlock_permission(self, request) -> bool:
        return request.user.has_perm("governance.change_loginlockout")



# --- Change plans: configured here; status, decisions and retirements change only through the
# services (the plan page), so they are read-only in the admin.


class ScimTokenInline(admin.TabularInline):
    """A provider's bearer tokens, never their secrets: created with ``create_scim_token``."""

    model = ScimToken
    extra = 0
    fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    inlines = [ScimTokenInline]
    actions = ["revoke_tokens"]

    @admin.action(description=_("Revoke their provisioning tokens now"))
    def revoke_tokens(self, request, queryset):
        revoked = sum(scim_token_revoke(token=token, actor=request.user)
                      for token in ScimToken.objects.filter(provider__in=queryset,
                                                            revoked_at__isnull=True)
                      .select_related("provider"))
        self.message_user(request, _("%(count)d token(s) revoked.") % {"count": revoked})
