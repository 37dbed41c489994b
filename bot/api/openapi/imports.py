"""The member list import in the OpenAPI document (bot/api/admin/member_imports.py); bot/api/openapi/document.py merges it."""
from __future__ import annotations

from typing import Any

from bot.api.openapi.schemas import SETTINGS, _obj, op, path_param, query_param, ref

ROW_ERROR = _obj(line={"type": "integer", "description": "The file's line (the header is line 1)"},
                 column={"type": "string", "description": "name, phone, birthday, gender, points, stamps, tier, joined_on, tags or external_id"},
                 code={"type": "string", "examples": ["invalid_date", "duplicate_phone", "unknown_tier", "phone_in_line"]},
                 message={"type": "string"})
COUNTS = dict(total={"type": "integer", "description": "Data lines (blank lines aside)"},
              valid={"type": "integer"}, to_import={"type": "integer", "description": "Valid rows not imported before"},
              unchanged={"type": "integer", "description": "Rows whose external id (or phone) was imported before: left as they are"},
              error_rows={"type": "integer"}, errors={"type": "array", "items": ref("ImportRowError")},
              errors_left_off={"type": "integer", "description": "Errors past the first 1,000 (the CLI prints them all)"},
              ignored_columns={"type": "array", "items": {"type": "string"}})

IMPORT_SCHEMAS: dict[str, Any] = {
    "ImportRowError": ROW_ERROR,
    "ImportReport": _obj(dry_run={"type": "boolean"}, encoding={"type": "string", "enum": ["utf-8", "utf-8-sig", "cp950"]},
                         columns={"type": "array", "items": {"type": "string"}}, **COUNTS),
    "MemberImport": {"type": "object", "properties": {"import": _obj(
        id={"type": "integer"}, source={"type": "string"}, status={"type": "string", "enum": ["queued", "running", "done", "failed"]},
        encoding={"type": ["string", "null"]}, imported={"type": "integer"}, failure={"type": ["object", "null"]},
        created_by={"type": "string"}, created_at={"type": "string", "format": "date-time"},
        finished_at={"type": ["string", "null"], "format": "date-time"}, **COUNTS)}},
}

IMPORT_PATHS: dict[str, Any] = {
    "/api/v1/admin/member-imports": {"post": {**op(
        "Import an existing member list (CSV) as pre-members, or check it (dry_run=1)", auth="admin", scope=SETTINGS, ok="ImportReport",
        also={"202": ("The import started: poll GET /api/v1/admin/member-imports/{import_id}", "MemberImport")},
        params=[query_param("dry_run", {"type": "string", "enum": ["1", "true"]}, "Check every row and answer the report; import nothing"),
                query_param("store", {"type": "string"}, "The store code the pre-members belong to (needed when there are several)"),
                query_param("filename", {"type": "string", "maxLength": 200}, "The file's name, kept on the import")],
        description=("The body is the CSV file's bytes (UTF-8 with or without BOM, or Big5/cp950), at most MAX_REQUEST_BYTES; a larger "
                     "file goes through `flask --app bot loyalty import`. Columns: name, phone (required), birthday, gender, points, stamps, "
                     "tier, joined_on, tags, external_id, or 姓名/手機/生日/性別/點數/集點/等級/加入日期/標籤/外部編號. A row whose external id "
                     "(or, without one, phone) was imported before is left unchanged: importing the same file twice changes nothing."),
        errors={"422": "import_undecodable, import_no_header, import_no_phone_column, import_duplicate_column, import_bad_csv, store_required",
                "404": "No such store (store_not_found)"}),
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"},
                                                                   "example": "姓名,手機,生日,點數,集點,等級,外部編號\n王小明,0912345678,1990-05-20,1200,3,銀卡,A001\n"}}}}},
    "/api/v1/admin/member-imports/{import_id}": {"get": op(
        "An import's progress and counts (the console polls it)", auth="admin", scope=SETTINGS, ok="MemberImport",
        params=[path_param("import_id", "integer")], errors={"404": "No such import (import_not_found)"})},
}
