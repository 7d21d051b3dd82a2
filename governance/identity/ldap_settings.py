"""The LDAP / Active Directory settings, read from the environment (``LDAP_*``) by
srm/settings.py when ``LDAP_SERVER_URI`` is set: django-auth-ldap's ``AUTH_LDAP_*`` and SRM's
own attribute and group mapping. docs/identity.md lists every variable. Imports no model: it
runs while the settings load."""

from __future__ import annotations

import ldap
from django_auth_ldap.config import (
    GroupOfNamesType,
    GroupOfUniqueNamesType,
    LDAPSearch,
    NestedActiveDirectoryGroupType,
    PosixGroupType,
)

GROUP_TYPES = {
    "groupOfNames": GroupOfNamesType,
    "groupOfUniqueNames": GroupOfUniqueNamesType,
    "activeDirectory": NestedActiveDirectoryGroupType,
    "posixGroup": PosixGroupType,
}


def ldap_settings(env) -> dict:
    """The settings for ``env`` (a django-environ ``Env``)."""
    timeout = env.float("LDAP_TIMEOUT", default=5.0)
    id_attribute = env.str("LDAP_ATTR_ID", default="entryUUID")
    group_type = env.str("LDAP_GROUP_TYPE", default="groupOfNames")
    if group_type not in GROUP_TYPES:
        raise ValueError(f"LDAP_GROUP_TYPE must be one of {', '.join(GROUP_TYPES)}, "
                         f"not {group_type!r}")
    group_base = env.str("LDAP_GROUP_BASE", default="")
    attributes = ["*", id_attribute] if id_attribute else None
    values = {
        "AUTH_LDAP_SERVER_URI": env.str("LDAP_SERVER_URI"),
        "AUTH_LDAP_BIND_DN": env.str("LDAP_BIND_DN", default=""),
        "AUTH_LDAP_BIND_PASSWORD": env.str("LDAP_BIND_PASSWORD", default=""),
        "AUTH_LDAP_START_TLS": env.bool("LDAP_START_TLS", default=False),
        # No sign-in waits on a directory that does not answer.
        "AUTH_LDAP_CONNECTION_OPTIONS": {
            ldap.OPT_NETWORK_TIMEOUT: timeout,
            ldap.OPT_TIMEOUT: timeout,
            ldap.OPT_REFERRALS: 0,
        },
        # Who may sign in: the filter finds the person (and leaves out disabled accounts).
        # Operational attributes (entryUUID) are only sent when asked for by name.
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(
            env.str("LDAP_USER_BASE"), ldap.SCOPE_SUBTREE,
            env.str("LDAP_USER_FILTER", default="(uid=%(user)s)"), attrlist=attributes),
        "AUTH_LDAP_USER_ATTRLIST": attributes,
        # SRM writes the person itself (governance.services.identity), never the library.
        "AUTH_LDAP_USER_ATTR_MAP": {},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": False,
        "AUTH_LDAP_REQUIRE_GROUP": env.str("LDAP_REQUIRE_GROUP", default="") or None,
        "AUTH_LDAP_DENY_GROUP": env.str("LDAP_DENY_GROUP", default="") or None,
        "AUTH_LDAP_CACHE_TIMEOUT": 0,
        "LDAP_ATTR_ID": id_attribute,
        "LDAP_ATTR_USERNAME": env.str("LDAP_ATTR_USERNAME", default="uid"),
        "LDAP_ATTR_EMAIL": env.str("LDAP_ATTR_EMAIL", default="mail"),
        "LDAP_ATTR_FIRST_NAME": env.str("LDAP_ATTR_FIRST_NAME", default="givenName"),
        "LDAP_ATTR_LAST_NAME": env.str("LDAP_ATTR_LAST_NAME", default="sn"),
        "LDAP_ATTR_DEPARTMENT": env.str("LDAP_ATTR_DEPARTMENT", default="departmentNumber"),
        "LDAP_ATTR_MANAGER": env.str("LDAP_ATTR_MANAGER", default="manager"),
        "LDAP_GROUP_OPS_LEADER": env.str("LDAP_GROUP_OPS_LEADER", default=""),
        "LDAP_GROUP_APPROVER": env.str("LDAP_GROUP_APPROVER", default=""),
        "LDAP_GROUP_AGENT": env.str("LDAP_GROUP_AGENT", default=""),
    }
    if group_base:
        values["AUTH_LDAP_GROUP_SEARCH"] = LDAPSearch(
            group_base, ldap.SCOPE_SUBTREE,
            env.str("LDAP_GROUP_FILTER", default="(objectClass=groupOfNames)"))
        values["AUTH_LDAP_GROUP_TYPE"] = GROUP_TYPES[group_type]()
    return values
