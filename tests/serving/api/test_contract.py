"""The API contract, told by the OpenAPI schema, matches what the service answers (issue 10, "Error responses match
the OpenAPI schema"): one 422 model on every route, undecodable bodies' 400 documented, a 405's Allow header listing
every method of the path, and the validation bounds (dates, cursors, page sizes) stated in the schema itself.

The fuzz test (test_openapi_fuzz.py) checks the answers against the schema; these pin the cases it only meets by chance.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from serving.api.schemas.common import CURSOR_PATTERN, DATE_PATTERN, EARLIEST_DATE, LATEST_DATE, encode_cursor
from serving.app import create_app
from tests.support.http import headers

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def schema() -> dict:
    return create_app().openapi()


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_every_documented_422_allows_both_shapes_of_detail(schema):
    """A route's own HTTPException(422, "...") has a string detail, FastAPI's validation error a list: both are
    documented wherever a 422 is (before: GET /v1/ledger/{table} documented only the list, POST /v1/keys and
    POST /v1/scoring-runs only the string)."""
    for path, method, operation in operations(schema):
        response = operation["responses"].get("422")
        if response is None:
            continue
        body = response["content"]["application/json"]["schema"]
        variants = [resolve(schema, v) for v in body.get("anyOf", [body])]
        kinds = {resolve(schema, v)["properties"]["detail"]["type"] for v in variants}
        assert kinds == {"string", "array"}, f"{method.upper()} {path}: 422 detail documented as {kinds}"


def test_routes_with_parameters_or_a_body_document_422_and_bodies_400(schema):
    for path, method, operation in operations(schema):
        takes_input = bool(operation.get("parameters")) or "requestBody" in operation
        if takes_input:
            assert "422" in operation["responses"], f"{method.upper()} {path}"
        if "requestBody" in operation:
            assert "400" in operation["responses"], f"{method.upper()} {path}: an unreadable body is a 400"


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/v1/ledger/invoices", "application/json", b'[{"invoice_id": "\xff\xfe"}]'),
        ("/v1/keys", "application/json", b'{"role": "finance", "name": "\xc3\x28"}'),
        ("/v1/ledger/invoices/csv", "multipart/form-data; boundary=xx", b"--xx\r\nContent-Disposition: form-data"),
    ],
)
def test_an_unreadable_body_gets_the_documented_answer(client, keys, schema, path, content_type, body):
    response = client.post(path, content=body, headers={**headers(keys, "admin"), "Content-Type": content_type})
    documented = schema["paths"][path]["post"]["responses"]
    assert str(response.status_code) in documented, response.text
    assert response.status_code in (400, 422)
    assert isinstance(response.json()["detail"], (str, list))


def test_an_unsupported_method_lists_every_method_of_the_path(client, keys, schema):
    """Starlette's 405 named only the methods of the first route matching the path (OPTIONS /v1/ledger/invoices:
    Allow: POST, though GET is there too)."""
    for path, method in [("/v1/ledger/invoices", "OPTIONS"), ("/v1/ledger/invoices", "PUT"), ("/v1/keys/7", "GET")]:
        response = client.request(method, path, headers=headers(keys, "admin"))
        assert response.status_code == 405
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        template = "/v1/keys/{key_id}" if path.startswith("/v1/keys/") else path
        documented = {m.upper() for m in schema["paths"][template] if m in HTTP_METHODS}
        assert allowed == documented


def test_date_bounds_are_in_the_schema(schema):
    """Every date the API takes carries the EARLIEST_DATE .. LATEST_DATE bounds as a pattern (before: just
    `format: date`, so a client could not know 2200-01-01 is refused)."""
    pattern = re.compile(DATE_PATTERN)
    assert pattern.match(EARLIEST_DATE.isoformat()) and pattern.match(LATEST_DATE.isoformat())
    assert not pattern.match((EARLIEST_DATE - dt.timedelta(days=1)).isoformat())
    assert not pattern.match((LATEST_DATE + dt.timedelta(days=1)).isoformat())
    dates = []
    for name in ("ActivityCreate", "ScoringRunCreate", "ScoreRequest"):
        for field, spec in schema["components"]["schemas"][name]["properties"].items():
            for variant in spec.get("anyOf", [spec]):
                if variant.get("format") == "date":
                    dates.append((name, field, variant))
    for path, _, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            for variant in parameter["schema"].get("anyOf", [parameter["schema"]]):
                if variant.get("format") == "date":
                    dates.append((path, parameter["name"], variant))
    assert len(dates) >= 5, dates
    for where, field, variant in dates:
        assert variant.get("pattern") == DATE_PATTERN, (where, field)
        assert variant.get("formatMinimum") == EARLIEST_DATE.isoformat(), (where, field)
        assert variant.get("formatMaximum") == LATEST_DATE.isoformat(), (where, field)


def test_cursor_and_page_size_bounds_are_in_the_schema(schema):
    paged = 0
    for path, _, operation in operations(schema):
        parameters = {p["name"]: p["schema"] for p in operation.get("parameters", [])}
        if "cursor" in parameters:
            paged += 1
            (cursor,) = [v for v in parameters["cursor"]["anyOf"] if v.get("type") == "string"]
            assert cursor["pattern"] == CURSOR_PATTERN and cursor["maxLength"] >= 200, path
            assert parameters["limit"]["minimum"] == 1 and parameters["limit"]["maximum"] == 1000, path
    assert paged >= 9  # seven ledger tables, activities, audit, worklists
    assert re.match(CURSOR_PATTERN, encode_cursor(["C'1 /é", 3]))


def test_a_cursor_outside_the_pattern_is_a_documented_422(client, keys):
    response = client.get("/v1/ledger/invoices", params={"cursor": "not a cursor!"}, headers=headers(keys, "admin"))
    assert response.status_code == 422
    (issue,) = response.json()["detail"]
    assert issue["loc"] == ["query", "cursor"]


def test_an_extra_column_named_with_nul_is_rejected_not_stored(client, keys, tiny_loaded):
    """PostgreSQL text cannot hold NUL: an extra column's name (kept as a key of `extra`) is checked like its values."""
    row = dict(tiny_loaded["customers"][0]) | {"note\x00": "x"}
    response = client.post("/v1/ledger/customers", json=[row], headers=headers(keys, "admin"))
    assert response.status_code == 422, response.text
    (problem,) = response.json()["problems"]
    assert problem["column"] == "note\x00" and problem["rule"] == "storage" and problem["row"] is None


def test_a_parent_id_with_nul_is_rejected_not_looked_up(client, keys, tiny_loaded):
    """A child row naming a parent id PostgreSQL cannot hold (NUL) was looked up in the store before the storage
    check and answered 500 (DataError, found by the fuzz test); it is a 422 naming the row and the column."""
    dispute = {"dispute_id": "D-nul", "invoice_id": "I\x00", "opened_date": "2024-02-01"}
    response = client.post("/v1/ledger/disputes", json=[dispute], headers=headers(keys, "admin"))
    assert response.status_code == 422, response.text
    columns = {problem["column"] for problem in response.json()["problems"]}
    assert "invoice_id" in columns
