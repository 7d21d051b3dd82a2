"""The kit (layer 0): web and API plumbing every app uses — the API's error format,
pagination, filters and throttles (``kit.api``), page helpers (``kit.web``), the navigation
registry (``kit.navigation``) and the domain error base classes (``kit.errors``).

It imports no app of SRM (the import contract in pyproject.toml checks it).
"""
