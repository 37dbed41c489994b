"""The API document and its browsable page: /docs serves the vendored Swagger UI, every $ref in
/openapi.json resolves, and the document agrees with the app (security, scopes, rule language, CSV)."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import ADMIN_TOKEN

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "static" / "vendor" / "swagger-ui"
ROOT_ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def doc(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    resp = client.get("/openapi.json")
    assert resp.status_code == 200
    return resp.get_json()


def refs(node: Any, where: str = "#") -> Iterator[tuple[str, str]]:
    """(location, $ref) for every $ref in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield where, value
            else:
                yield from refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from refs(value, f"{where}/{i}")


def resolve(doc: dict[str, Any], pointer: str) -> Any:
    assert pointer.startswith("#/"), f"only local references are expected: {pointer}"
    node: Any = doc
    for part in pointer[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{pointer} does not resolve (at {part!r})"
        node = node[part]
    return node


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in doc["paths"].items():
        for method, operation in ops.items():
            yield path, method, operation


def concrete(path: str) -> str:
    """A callable URL for a templated path: ids that exist nowhere."""
    return re.sub(r"\{(\w+)\}", lambda m: "999999" if m.group(1).endswith("_id") else "NOPE", path)


def test_docs_page_serves_the_vendored_swagger_ui(client):  # type: ignore[no-untyped-def]
    resp = client.get("/docs")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert "<title>API 文件</title>" in html
    assert 'lang="zh-Hant-TW"' in html
    assert "SwaggerUIBundle(" in html and '"/openapi.json"' in html
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert {a.split("?")[0] for a in assets} == {"/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/swagger-ui/swagger-ui.css"}
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", html), "no CDN: everything comes from this server"
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self' 'nonce-" in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    assert f'<script nonce="{nonce}">' in html
    assert client.get("/docs").headers["Content-Security-Policy"] != csp, "a fresh nonce per response"
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        local = VENDOR / asset.split("?")[0].rsplit("/", 1)[1]
        assert served.data == local.read_bytes()
        served.close()


def test_vendored_files_match_the_readme():  # type: ignore[no-untyped-def]
    readme = (ROOT / "static" / "vendor" / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Swagger UI", 1)[1]
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"):
        digest = hashlib.sha256((VENDOR / name).read_bytes()).hexdigest()
        assert f"`swagger-ui/{name}`: `{digest}`" in section, f"{name}: README sha256 is stale"
    from bot.web.docs import SWAGGER_UI_VERSION

    assert f"swagger-ui-dist@{SWAGGER_UI_VERSION}" in section
    assert "Apache License" in (VENDOR / "LICENSE").read_text(encoding="utf-8")


def test_every_ref_resolves_and_every_schema_is_used(doc):  # type: ignore[no-untyped-def]
    found = list(refs(doc))
    assert len(found) > 50
    for where, pointer in found:
        assert resolve(doc, pointer) is not None, where
    used = {p.rsplit("/", 1)[1] for _, p in found if p.startswith("#/components/schemas/")}
    unused = set(doc["components"]["schemas"]) - used
    assert not unused, f"schemas nothing refers to: {sorted(unused)}"


def test_admin_scheme_explains_the_scopes(doc):  # type: ignore[no-untyped-def]
    text = doc["components"]["securitySchemes"]["admin"]["description"]
    for word in ("members:read", "campaigns:manage", "settings:manage", "ADMIN_TOKEN", "adm_", "/api/v1/admin/tokens"):
        assert word in text


def test_every_secured_operation_refuses_anonymous_callers(client, doc):  # type: ignore[no-untyped-def]
    for path, method, operation in operations(doc):
        if not operation["security"]:
            continue
        resp = client.open(concrete(path), method=method.upper(), json={})
        assert resp.status_code == 401, f"{method} {path}: {resp.status_code}"
        assert "401" in operation["responses"]


def test_admin_operations_need_exactly_their_documented_scope(client, doc):  # type: ignore[no-untyped-def]
    """A token without the scope gets 403 missing_scope; a token with only that scope gets past the check."""
    from models.admin import SCOPES

    tokens = {}
    for scope in SCOPES:
        only = client.post("/api/v1/admin/tokens", json={"name": f"only {scope}", "scopes": [scope]}, headers=ROOT_ADMIN)
        others = client.post("/api/v1/admin/tokens", json={"name": f"not {scope}", "scopes": [s for s in SCOPES if s != scope]}, headers=ROOT_ADMIN)
        assert only.status_code == others.status_code == 201
        tokens[scope] = ({"Authorization": f"Bearer {only.get_json()['token']}"}, {"Authorization": f"Bearer {others.get_json()['token']}"})
    checked = 0
    for path, method, operation in operations(doc):
        if not path.startswith("/api/v1/admin/") or not operation["security"]:
            continue  # the console's sign-in is the one open admin route
        [requirement] = operation["security"]
        [scope] = requirement["admin"]
        assert "403" in operation["responses"] and f"`{scope}`" in operation["description"], f"{method} {path}"
        with_scope, without = tokens[scope]
        refused = client.open(concrete(path), method=method.upper(), json={}, headers=without)
        assert refused.status_code == 403 and refused.get_json()["code"] == "missing_scope", f"{method} {path} without {scope}"
        allowed = client.open(concrete(path), method=method.upper(), json={}, headers=with_scope)
        assert allowed.status_code not in (401, 403), f"{method} {path} with {scope}: {allowed.get_json()}"
        assert str(allowed.status_code) in operation["responses"], f"{method} {path}: undocumented {allowed.status_code}"
        checked += 1
    assert checked >= 30


def test_segment_export_is_documented_as_csv(client, doc):  # type: ignore[no-untyped-def]
    operation = doc["paths"]["/api/v1/admin/segments/{segment_id}/members.csv"]["get"]
    assert list(operation["responses"]["200"]["content"]) == ["text/csv"]
    made = client.post("/api/v1/admin/segments", json={"name": "everyone", "rule": {}}, headers=ROOT_ADMIN)
    assert made.status_code == 201
    resp = client.get(f"/api/v1/admin/segments/{made.get_json()['id']}/members.csv", headers=ROOT_ADMIN)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    header = resp.get_data(as_text=True).lstrip("\ufeff").splitlines()[0]
    assert header.split(",") == ["member_no", "name", "phone", "gender", "birthday_on", "joined_at", "reachable"]
    assert all(column in operation["responses"]["200"]["description"] for column in header.split(","))


RULES = [
    {"and": [{"field": "nes", "op": "in", "value": ["S1", "S2"]}, {"field": "total_spend", "op": "gte", "value": "3000"},
             {"not": {"field": "tag", "op": "has", "value": "VIP"}}]},
    {"or": [{"field": "joined_on", "op": "between", "value": ["2026-01-01", "2026-03-31"]}, {"field": "reachable", "op": "eq", "value": True}]},
    {"field": "r_score", "op": "between", "value": [4, 5]},
    {"field": "rfm_class", "op": "in", "value": ["重要價值", "一般挽留"]},
    {"field": "birthday_month", "op": "eq", "value": 12},
    {"field": "last_visit_within_days", "op": "lte", "value": 30},
    {"field": "age", "op": "gte", "value": 18},
    {"field": "nope", "op": "eq", "value": 1},
    {"field": "r_score", "op": "eq", "value": 6},
    {"field": "r_score", "op": "in", "value": [1]},
    {"field": "r_score", "op": "eq", "value": [4, 5]},
    {"field": "visits", "op": "between", "value": 3},
    {"field": "rfm_class", "op": "eq", "value": ["重要價值"]},
    {"field": "visits", "op": "gte", "value": True},
    {"field": "gender", "op": "eq", "value": "x"},
    {"field": "age", "op": "between", "value": [18]},
    {"field": "tag", "op": "has", "value": ""},
    {"field": "tag", "op": "has", "value": "VIP", "extra": 1},
    {"and": []},
    {"and": [{"field": "reachable", "op": "eq", "value": 1}]},
    {"not": {"field": "joined_on", "op": "gte", "value": ["2026-01-01"]}},
    [],
]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: str(r)[:60])
def test_segment_rule_schema_agrees_with_the_rule_compiler(doc, rule):  # type: ignore[no-untyped-def]
    """Rules without tier/store (those look the codes up) are accepted by the schema exactly when the compiler accepts them."""
    from datetime import UTC, datetime

    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    from models.segment_rules import Compiler, RuleError

    registry = Registry().with_resource("urn:api", Resource.from_contents(doc, default_specification=DRAFT202012))
    schema_ok = Draft202012Validator({"$ref": "urn:api#/components/schemas/SegmentRule"}, registry=registry).is_valid(rule)
    try:
        Compiler(None, datetime(2026, 11, 23, tzinfo=UTC)).node(rule)  # type: ignore[arg-type]
        compiler_ok = True
    except RuleError:
        compiler_ok = False
    assert schema_ok == compiler_ok


def test_every_rule_field_is_documented(doc):  # type: ignore[no-untyped-def]
    from models.segment_rules import FIELDS

    condition = doc["components"]["schemas"]["RuleCondition"]
    assert condition["properties"]["field"]["enum"] == list(FIELDS)
    assert [rule["if"]["properties"]["field"]["const"] for rule in condition["allOf"]] == list(FIELDS)
    assert all(rule["then"]["description"] for rule in condition["allOf"]), "add the field to FIELD_DOCS in bot/api/openapi/rules.py"
    for name in FIELDS:
        assert f"| `{name}` |" in condition["description"]
