"""The API's own error bodies follow Accept-Language like every refusal; the code stays."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_an_unknown_api_endpoint_is_explained_in_german_and_in_english():
    german = Client(headers={"Accept-Language": "de"}).get("/api/v2/nothing-here/")
    assert german.status_code == 404
    assert german.json()["code"] == "not_found"
    assert german.json()["message"] == ("Es gibt keinen API-Endpunkt /api/v2/nothing-here/ "
                                        "(Version 1 liegt unter /api/v1/).")
    english = Client(headers={"Accept-Language": "en"}).get("/api/v2/nothing-here/")
    assert english.json()["message"] == ("There is no API endpoint /api/v2/nothing-here/ "
                                         "(version 1 is under /api/v1/).")
