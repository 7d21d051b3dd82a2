"""Signing in through the company's identity provider (``oidc``: OpenID Connect) or directory
(``ldap``: LDAP / Active Directory), and the local passwords' rule (``passwords``). Each
turns what the source says about a person into a ``DirectoryPerson`` and hands it to
``governance.services.identity.user_sync_from_directory``, the one writer. docs/identity.md.
"""
