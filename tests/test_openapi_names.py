"""Each area's schemas are merged into one /openapi.json: a name defined by two areas would silently
replace one body with another (the award void's replaced the coupon void's, and the strict body
check then refused the coupon's code as an unknown field)."""
from __future__ import annotations

from bot.api.openapi import document as openapi


def test_no_schema_name_is_defined_by_two_areas():
    parts = {name: value for name, value in vars(openapi).items() if name.endswith("_SCHEMAS") or name == "SCHEMAS"}
    assert {"SCHEMAS", "SHIFT_SCHEMAS", "CORRECTION_SCHEMAS", "PRIVACY_SCHEMAS"} <= set(parts)
    owners: dict[str, list[str]] = {}
    for area, schemas in parts.items():
        for name in schemas:
            owners.setdefault(name, []).append(area)
    assert {name: areas for name, areas in owners.items() if len(areas) > 1} == {}
