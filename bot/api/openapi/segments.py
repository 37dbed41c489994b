"""The brand's RFM settings and the freshness of segments in the OpenAPI document
(bot/api/admin/members.py); bot/api/openapi/document.py merges these paths and schemas."""
from __future__ import annotations

from typing import Any

from bot.api.openapi.schemas import CAMPAIGNS, READ, TIME_OR_NULL, _obj, op
from models.segment_setting import BOUNDS, HINTS, MAX_HINT, MODES

MODE = {"type": "string", "enum": list(MODES), "description": (
    "How \"high\" is decided for this dimension: quintile (the tie-aware quintile score is 3 or more), average (better than the "
    "average of the members who bought in the window: R fewer days since the last visit, F more visits, M more spend), "
    "threshold (R: last visit at most r_days days ago; F: at least f_visits visits in the window; M: at least m_amount NT$ in the window)")}
HINTS_SCHEMA = {"type": "object", "description": f"The action hint per RFM class (at most {MAX_HINT} characters); every class present",
                "properties": {cls: {"type": "string"} for cls in HINTS}, "examples": [{"重要發展": HINTS["重要發展"]}]}
FIELDS: dict[str, Any] = {
    "r_mode": MODE, "f_mode": MODE, "m_mode": MODE,
    "r_days": {"type": "integer", "minimum": BOUNDS["r_days"][0], "maximum": BOUNDS["r_days"][1], "description": "R threshold: days since the last visit (default 30)"},
    "f_visits": {"type": "integer", "minimum": BOUNDS["f_visits"][0], "maximum": BOUNDS["f_visits"][1], "description": "F threshold: visits in the window (default 4)"},
    "m_amount": {"type": ["string", "number"], "description": "M threshold: NT$ spent in the window (default 2000; at most 2 decimals)", "examples": ["2000"]},
}

SEGMENT_SCHEMAS: dict[str, Any] = {
    "SegmentSettings": _obj(
        ["r_mode", "f_mode", "m_mode", "r_days", "f_visits", "m_amount", "hints", "computed_at"], **FIELDS, hints=HINTS_SCHEMA,
        computed_at={**TIME_OR_NULL, "description": "The last recompute of RFM, NES and rule tags (null: never)"},
        members_scored={"type": ["integer", "null"], "description": "Members scored by the last recompute"},
        window_days={"type": "integer", "description": "The RFM window (RFM_WINDOW_DAYS)"}),
    "SegmentSettingsUpdate": _obj(doc="Only the fields sent change; the classes change at the next recompute", **FIELDS, hints={
        "type": "object", "description": "class → text; \"\" or null puts the class's hint back to its default",
        "additionalProperties": {"type": ["string", "null"], "maxLength": MAX_HINT}}),
}

SEGMENT_PATHS: dict[str, Any] = {
    "/api/v1/admin/segments/settings": {
        "get": op("How \"high\" is decided per RFM dimension, the action hints, the last recompute", auth="admin", scope=READ, ok="SegmentSettings"),
        "put": op("Change the RFM rule for \"high\" or the action hints", auth="admin", scope=CAMPAIGNS, body="SegmentSettingsUpdate", ok="SegmentSettings",
                  errors={"422": "invalid_json, or invalid_segment_setting (details.field: the mode, threshold or hints/<class>, or an unknown field)"}),
    },
}
