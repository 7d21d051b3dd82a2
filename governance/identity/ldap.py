"""Signing in against LDAP / Active Directory, through django-auth-ldap: the username and
password are checked by a bind as the person found by ``LDAP_USER_FILTER`` (which leaves out
disabled accounts), then the person is created or updated from the entry's attributes and
groups through ``user_sync_from_directory``."""

from __future__ import annotations

import logging
import uuid

import ldap
from django.conf import settings
from django_auth_ldap.backend import LDAPBackend

from governance.choices import IdentitySource
from governance.errors import DomainError
from governance.identity.groups import roles_from_groups
from governance.services.identity import DirectoryPerson, user_sync_from_directory

logger = logging.getLogger(__name__)


def _text(value) -> str:
    if isinstance(value, bytes):
        # Active Directory's objectGUID: 16 bytes, written as Windows writes a GUID.
        return str(uuid.UUID(bytes_le=value)) if len(value) == 16 else value.hex()
    return str(value)


def _attribute(ldap_user, name: str) -> str | None:
    """The entry's first value of ``name``; None when not mapped or absent (says nothing)."""
    if not name:
        return None
    values = (ldap_user.attrs or {}).get(name)
    return _text(values[0]) if values else None


def _manager_username(ldap_user, manager_dn: str | None) -> str | None:
    """The user name of the manager whose DN the entry names (read from the directory)."""
    if not manager_dn:
        return manager_dn
    try:
        found = ldap_user.connection.search_s(manager_dn, ldap.SCOPE_BASE, "(objectClass=*)",
                                              [settings.LDAP_ATTR_USERNAME])
    except ldap.LDAPError as exc:
        logger.warning("LDAP: the manager %s of %s could not be read: %s", manager_dn,
                       ldap_user.dn, exc)
        return None
    values = found[0][1].get(settings.LDAP_ATTR_USERNAME) if found else None
    if not values:
        return None
    return values[0].decode() if isinstance(values[0], bytes) else str(values[0])


def person_from_entry(ldap_user, username: str) -> DirectoryPerson:
    leader, role = roles_from_groups(
        ldap_user.group_dns, ops_leader=settings.LDAP_GROUP_OPS_LEADER,
        approver=settings.LDAP_GROUP_APPROVER, agent=settings.LDAP_GROUP_AGENT)
    return DirectoryPerson(
        source=IdentitySource.LDAP,
        external_id=_attribute(ldap_user, settings.LDAP_ATTR_ID) or ldap_user.dn,
        username=_attribute(ldap_user, settings.LDAP_ATTR_USERNAME) or username,
        email=_attribute(ldap_user, settings.LDAP_ATTR_EMAIL),
        first_name=_attribute(ldap_user, settings.LDAP_ATTR_FIRST_NAME),
        last_name=_attribute(ldap_user, settings.LDAP_ATTR_LAST_NAME),
        department_code=_attribute(ldap_user, settings.LDAP_ATTR_DEPARTMENT),
        manager=_manager_username(ldap_user, _attribute(ldap_user, settings.LDAP_ATTR_MANAGER)),
        ops_leader=leader,
        role=role,
    )


class DirectoryBackend(LDAPBackend):
    """django-auth-ldap's bind and search; SRM's own writer for the person."""

    def get_or_build_user(self, username, ldap_user):
        try:
            user = user_sync_from_directory(person=person_from_entry(ldap_user, username))
        except DomainError as exc:
            raise ldap_user.AuthenticationFailed(exc.message) from exc
        if not user.is_active:
            raise ldap_user.AuthenticationFailed(f"{user.username} is deactivated in SRM")
        return user, False

    def get_user(self, user_id):
        user = super().get_user(user_id)
        # A person deactivated (a leaver) is signed out of the session they still have.
        return user if user is not None and user.is_active else None
