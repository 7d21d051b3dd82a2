"""SCIM 2.0 provisioning of people and departments (``/scim/v2/``): docs/identity.md."""
