"""Local passwords: SRM's own user table. With ``SRM_LOCAL_PASSWORDS`` off only superusers
sign in with one — break-glass access for administrators while the provider is down."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from governance.identity.sessions import user_read_with_session


def local_passwords_for(user) -> bool:
    return settings.SRM_LOCAL_PASSWORDS or user.is_superuser


class LocalPasswordBackend(ModelBackend):
    """Django's password check, for the people local passwords are open to. A session it
    started ends when they are closed to its owner (the setting turned off)."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and local_passwords_for(user)

    def get_user(self, user_id):
        # The person the session's own statement read (governance.identity.sessions), checked
        # as ModelBackend checks the one it reads.
        user = user_read_with_session(user_id)
        if user is None:
            return super().get_user(user_id)
        return user if self.user_can_authenticate(user) else None
