"""A person's own settings that change how SRM speaks to them (the language)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from governance.choices import AuditVerb
from governance.errors import ValidationFailed
from governance.models import User
from governance.services.audit import audit_record


@transaction.atomic
def user_language_set(*, user: User, language: str, actor: User) -> User:
    """Save the language ``user`` reads pages and e-mails in (``""``: follow the browser)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationFailed(_("SRM does not speak this language."),
                               field_errors={"language": [_("Choose English or Deutsch.")]})
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.language == language:
        return locked
    before = locked.language
    locked.language = language
    locked.save(update_fields=["language"])
    audit_record(actor=actor, verb=AuditVerb.USER_LANGUAGE_CHANGED, target=locked,
                 from_state=before, to_state=language)
    user.language = language
    return locked
