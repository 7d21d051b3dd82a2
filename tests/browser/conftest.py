"""Browser fixtures (``browser``, ``sign_in``, ``shot``) live in tests/conftest.py."""
