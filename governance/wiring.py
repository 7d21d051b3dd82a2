"""What the organisation core does when a person's account changes: a new password or a
deactivation revokes every API token the person had (connected in ``GovernanceConfig.ready``);
and the organisation page's entry in the navigation, for ops leaders."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _

from governance.choices import TokenRevokedBecause
from governance.models import ApiToken, User
from governance.services.tokens import api_tokens_revoke_all
from kit.navigation import NAV, NavEntry


def _account_changed(sender, instance: User, created: bool, **kwargs) -> None:
    if created:
        return
    # Django keeps the new raw password on the instance until the save that stores it ends.
    if getattr(instance, "_password", None) is not None:
        api_tokens_revoke_all(user=instance, actor=None,
                              because=TokenRevokedBecause.PASSWORD_CHANGED)
    elif not instance.is_active and ApiToken.objects.filter(
            user=instance, revoked_at__isnull=True).exists():
        api_tokens_revoke_all(user=instance, actor=None, because=TokenRevokedBecause.DEACTIVATED)


def _is_ops_leader(user) -> bool:
    return user.is_superuser or user.is_ops_leader


def connect() -> None:
    post_save.connect(_account_changed, sender=User, dispatch_uid="governance.account_changed")
    # Ops leaders' view of the organisation: who leads what, from where, and its conflicts.
    if not any(entry.url_name == "organisation:page" for entry in NAV):
        NAV.append(NavEntry(label=_("Organisation"), url_name="organisation:page",
                            visible=_is_ops_leader, menu=True, order=60))
