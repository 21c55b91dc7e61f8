"""The served OpenAPI document as an integrator meets it (issue 13).

Run by scripts/fuzz-api.sh against a demo server, with:
  CDC_CONTRACT_BASE_URL  the server, e.g. http://127.0.0.1:8080
  CDC_CONTRACT_TOKEN     an API token of a reporter
and the client that openapi-python-client generated from the served document importable as
`cdc_client` (PYTHONPATH).
"""

import datetime
import json
import os
import urllib.request
import uuid

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

BASE = os.environ["CDC_CONTRACT_BASE_URL"].rstrip("/")
TOKEN = os.environ["CDC_CONTRACT_TOKEN"]


def served_document():
    with urllib.request.urlopen(f"{BASE}/api/v1/openapi.json", timeout=10) as r:
        assert r.status == 200
        return json.load(r)


def test_the_served_document_is_valid_openapi_3_1():
    doc = served_document()
    assert doc["openapi"].startswith("3.1")
    errors = list(OpenAPIV31SpecValidator(doc).iter_errors())
    print(f"openapi-spec-validator: {len(errors)} errors")
    assert errors == [], [e.message for e in errors[:5]]
    ids = [
        op["operationId"]
        for item in doc["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    assert len(ids) == len(set(ids)), "operationIds are unique"


@pytest.fixture
def client():
    from cdc_client import AuthenticatedClient

    return AuthenticatedClient(base_url=BASE, token=TOKEN, raise_on_unexpected_status=True)


def incident(**changes):
    from cdc_client.models import Harm, IncidentCategory, IncidentInput

    fields = dict(
        occurred_on=datetime.date.today() - datetime.timedelta(days=2),
        location="Dispensary",
        categories=[IncidentCategory.STOCK_DISCREPANCY],
        harm=Harm.NONE,
        description="Running balance of morphine sulfate 10 mg tablets short by 4.",
        near_miss=False,
    )
    fields.update(changes)
    return IncidentInput(**fields)


def test_a_generated_client_files_an_incident_reads_it_back_and_gets_a_typed_422(client):
    from cdc_client.api.cases import get_case
    from cdc_client.api.reports import submit_incident
    from cdc_client.models import CaseView, Problem, Submitted

    key = str(uuid.uuid4())
    first = submit_incident.sync_detailed(client=client, body=incident(), idempotency_key=key)
    assert first.status_code == 201, first.content
    assert isinstance(first.parsed, Submitted)
    assert first.parsed.reference.startswith("CD-")

    # A retry with the same key answers as the first time did, and files nothing new.
    again = submit_incident.sync_detailed(client=client, body=incident(), idempotency_key=key)
    assert again.status_code == 201
    assert again.parsed.id == first.parsed.id
    assert again.headers.get("idempotent-replayed") == "true"

    read = get_case.sync_detailed(first.parsed.id, client=client)
    assert read.status_code == 200, read.content
    assert isinstance(read.parsed, CaseView)
    assert read.parsed.reference == first.parsed.reference

    future = datetime.date.today() + datetime.timedelta(days=30)
    bad = submit_incident.sync_detailed(
        client=client, body=incident(occurred_on=future), idempotency_key=str(uuid.uuid4())
    )
    assert bad.status_code == 422
    assert isinstance(bad.parsed, Problem)
    assert bad.headers["content-type"] == "application/problem+json"
    assert [e.field for e in bad.parsed.errors] == ["occurred_on"]
    assert bad.parsed.status == 422
