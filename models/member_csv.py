"""Reading a brand's existing member list: the CSV's encoding, its headers (English or zh-TW) and
every row checked, with no database (pure functions; models/member_import.py checks the rest
against the database and imports).

    bytes ─► decode (UTF-8 with or without BOM, else Big5/cp950) ─► headers ─► one Row or RowErrors per line

Columns (any order; only ``phone`` is required; other columns are ignored and named in the report):

    name         姓名                 up to 120 characters
    phone        手機 / 手機號碼 / 電話  a Taiwan mobile, 09xxxxxxxx or +8869xxxxxxxx
    birthday     生日                 2026-05-20, 2026/5/20, 20260520 or a 民國 date 79/05/20
    gender       性別                 男 / 女 / 其他, M / F, male / female / other; empty: not given
    points       點數                 a whole number ≥ 0 (1,200 is fine)
    stamps       集點 / 集章           a whole number ≥ 0
    tier         等級 / 會員等級        a tier's name or code as set up in 設定 › 會員等級
    joined_on    加入日期              a date as for birthday; empty: the day of the import
    tags         標籤                 several separated by , 、 ; or |
    external_id  外部編號 / 會員編號     the old system's id: it identifies the row on a second run
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from models.member import normalise_phone

COLUMNS = ("name", "phone", "birthday", "gender", "points", "stamps", "tier", "joined_on", "tags", "external_id")
ALIASES = {
    "name": ("姓名", "名字", "會員姓名"),
    "phone": ("手機", "手機號碼", "電話", "mobile"),
    "birthday": ("生日", "出生日期", "birthday_on"),
    "gender": ("性別", "sex"),
    "points": ("點數", "紅利點數", "point"),
    "stamps": ("集點", "集章", "印章", "stamp"),
    "tier": ("等級", "會員等級"),
    "joined_on": ("加入日期", "入會日期", "joined", "joined_at", "joined_date", "joined date"),
    "tags": ("標籤", "tag"),
    "external_id": ("外部編號", "會員編號", "external id", "id"),
}
HEADER_OF = {alias.lower(): name for name, aliases in ALIASES.items() for alias in (name, *aliases)}
GENDER_OF = {"男": "male", "男性": "male", "m": "male", "male": "male", "女": "female", "女性": "female", "f": "female",
             "female": "female", "其他": "other", "other": "other", "o": "other"}
MAX_POINTS, MAX_STAMPS = 100_000_000, 10_000
MAX_NAME, MAX_EXTERNAL_ID, MAX_TAG, MAX_TAGS = 120, 64, 60, 20
TAG_SPLIT = re.compile(r"[,、;；，|]")
ROC_DATE = re.compile(r"(\d{2,3})[/\-.](\d{1,2})[/\-.](\d{1,2})")
AD_DATE = re.compile(r"(\d{4})[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?")


class FileError(ValueError):
    """The file as a whole cannot be read: ``code`` says why (undecodable, no_header, no_phone_column, …)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class RowError:
    line: int
    column: str  # one of COLUMNS ("" for the row as a whole)
    code: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "code": self.code, "message": self.message}


@dataclass
class Row:
    line: int
    phone: str
    name: str | None = None
    birthday_on: date | None = None
    gender: str | None = None
    points: int = 0
    stamps: int = 0
    tier: str | None = None
    joined_on: date | None = None
    tags: list[str] = field(default_factory=list)
    external_id: str | None = None

    @property
    def key(self) -> str:
        """What identifies the row on a second run: its external id, or without one its phone."""
        return f"ext:{self.external_id}" if self.external_id else f"phone:{self.phone}"


@dataclass
class Parsed:
    encoding: str
    columns: list[str]  # the COLUMNS the file has, in its order
    ignored: list[str]  # headers that name none of them
    rows: list[Row]
    errors: list[RowError]
    total: int  # data lines (not blank ones)


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding's name: UTF-8 (a BOM or not) when the bytes are valid UTF-8, else
    Big5 as Windows writes it (cp950, what older Taiwanese POS and CRM software exports)."""
    try:
        return data.decode("utf-8-sig"), "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp950"), "cp950"
    except UnicodeDecodeError as exc:
        raise FileError("undecodable", f"Not UTF-8 nor Big5 (cp950): byte {exc.start} cannot be read; save the file as UTF-8") from exc


def header_map(headers: list[str]) -> tuple[list[str | None], list[str]]:
    """Each header's column (None: ignored), and the ignored headers. Case, spaces and a stray BOM do not matter."""
    names: list[str | None] = []
    for raw in headers:
        key = re.sub(r"\s+", " ", raw.replace("\ufeff", "").strip()).lower()
        names.append(HEADER_OF.get(key) or HEADER_OF.get(key.replace(" ", "_")))
    seen = [n for n in names if n]
    doubled = sorted({n for n in seen if seen.count(n) > 1})
    if doubled:
        raise FileError("duplicate_column", f"Columns given twice: {', '.join(doubled)}")
    if "phone" not in seen:
        raise FileError("no_phone_column", "The file needs a phone (手機) column; the first line names the columns")
    return names, [h.strip() for h, n in zip(headers, names) if n is None and h.strip()]


def parse_date(raw: str) -> date | None:
    """2026-05-20, 2026/5/20, 2026.05.20, 2026年5月20日, 20260520, or a 民國 date (79/05/20, 079/5/20, 1150520).
    None when it is none of them or no such day."""
    text = raw.strip()
    try:
        if m := AD_DATE.fullmatch(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := ROC_DATE.fullmatch(text.removeprefix("民國").strip()):
            return date(int(m[1]) + 1911, int(m[2]), int(m[3]))
        if re.fullmatch(r"\d{8}", text):
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if re.fullmatch(r"\d{7}", text):  # 民國 yyymmdd
            return date(int(text[:3]) + 1911, int(text[3:5]), int(text[5:]))
    except ValueError:
        return None
    return None


def parse_count(raw: str, *, most: int) -> tuple[int | None, str | None]:
    """A whole number from 0 to ``most`` (thousands separators allowed; empty is 0), or the error's code."""
    text = raw.strip().replace(",", "").replace("，", "")
    if not text:
        return 0, None
    if not re.fullmatch(r"[+-]?\d+", text):
        return None, "invalid_number"
    value = int(text)
    if value < 0:
        return None, "negative"
    if value > most:
        return None, "too_large"
    return value, None


MESSAGES = {
    "required": "is required",
    "invalid_phone": "is not a Taiwan mobile number (09xxxxxxxx or +8869xxxxxxxx)",
    "invalid_date": "is not a date (2026-05-20, 2026/5/20 or 民國 79/05/20)",
    "date_in_future": "is after the day of the import",
    "date_too_early": "is before 1900",
    "invalid_number": "is not a whole number",
    "negative": "is negative",
    "too_large": "is too large",
    "invalid_gender": "is not 男, 女, 其他 (M, F, male, female, other)",
    "too_long": "is too long",
    "duplicate_phone": "is on an earlier line of the file too",
    "duplicate_external_id": "is on an earlier line of the file too",
    "unknown_tier": "names no tier",
    "rule_tag": "is a rule tag (kept by its rule, not by hand)",
    "phone_in_line": "belongs to a member in LINE: they collect in LINE already",
    "phone_premember": "belongs to a pre-member made at the counter",
    "phone_imported": "belongs to a member imported before under another external id",
}


def _err(line: int, column: str, code: str, extra: str = "") -> RowError:
    return RowError(line, column, code, f"{column} {MESSAGES[code]}{extra}")


def _date(line: int, column: str, raw: str, today: date, errors: list[RowError]) -> date | None:
    if not raw.strip():
        return None
    day = parse_date(raw)
    if day is None:
        errors.append(_err(line, column, "invalid_date", f": {raw.strip()[:40]}"))
    elif day > today:
        errors.append(_err(line, column, "date_in_future", f": {day.isoformat()}"))
    elif day.year < 1900:
        errors.append(_err(line, column, "date_too_early", f": {day.isoformat()}"))
    else:
        return day
    return None


def parse_row(line: int, values: dict[str, str], *, today: date, tiers: set[str] | None = None) -> tuple[Row | None, list[RowError]]:
    """One data line by column name: the Row, or every error it has (not just the first). ``tiers``:
    the tier names and codes there are (lower case), when known, so an unknown one is named too."""
    errors: list[RowError] = []
    get = lambda name: (values.get(name) or "").strip()  # noqa: E731
    phone = normalise_phone(get("phone"))
    if not get("phone"):
        errors.append(_err(line, "phone", "required"))
    elif phone is None:
        errors.append(_err(line, "phone", "invalid_phone"))
    for column, most in (("name", MAX_NAME), ("external_id", MAX_EXTERNAL_ID), ("tier", 60)):
        if len(get(column)) > most:
            errors.append(_err(line, column, "too_long", f" (at most {most} characters)"))
    if tiers is not None and get("tier") and get("tier").lower() not in tiers:
        errors.append(_err(line, "tier", "unknown_tier", f": {get('tier')[:60]}"))
    birthday, joined = _date(line, "birthday", get("birthday"), today, errors), _date(line, "joined_on", get("joined_on"), today, errors)
    gender = None
    if get("gender"):
        gender = GENDER_OF.get(get("gender").lower())
        if gender is None:
            errors.append(_err(line, "gender", "invalid_gender"))
    counts = {}
    for column, most in (("points", MAX_POINTS), ("stamps", MAX_STAMPS)):
        counts[column], code = parse_count(get(column), most=most)
        if code:
            errors.append(_err(line, column, code, f" (0 to {most:,})" if code == "too_large" else ""))
    tags = list(dict.fromkeys(t.strip() for t in TAG_SPLIT.split(get("tags")) if t.strip()))
    if any(len(t) > MAX_TAG for t in tags) or len(tags) > MAX_TAGS:
        errors.append(_err(line, "tags", "too_long", f" ({MAX_TAGS} tags of at most {MAX_TAG} characters)"))
    if errors:
        return None, sorted(errors, key=lambda e: COLUMNS.index(e.column))  # in the order of COLUMNS
    assert phone is not None
    return Row(line=line, phone=phone, name=get("name") or None, birthday_on=birthday, gender=gender, points=counts["points"] or 0,
               stamps=counts["stamps"] or 0, tier=get("tier") or None, joined_on=joined, tags=tags,
               external_id=get("external_id") or None), []


def parse_file(data: bytes, *, today: date, tiers: set[str] | None = None) -> Parsed:
    """Every line of the file checked, duplicates within the file included (a phone or an external id
    on an earlier line: the later line is the error, naming the first)."""
    text, encoding = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader)
    except StopIteration:
        raise FileError("no_header", "The file is empty; the first line names the columns") from None
    except csv.Error as exc:
        raise FileError("bad_csv", f"Not a CSV file: {exc}") from exc
    names, ignored = header_map(headers)
    rows: list[Row] = []
    errors: list[RowError] = []
    phones: dict[str, int] = {}
    external: dict[str, int] = {}
    total = 0
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            total += 1
            values = {n: c for n, c in zip(names, cells) if n}
            row, problems = parse_row(line, values, today=today, tiers=tiers)
            if row is not None:
                first_phone = phones.setdefault(row.phone, line)
                first_ext = external.setdefault(row.external_id, line) if row.external_id else line
                if first_phone != line:
                    problems.append(_err(line, "phone", "duplicate_phone", f" (line {first_phone})"))
                if first_ext != line:
                    problems.append(_err(line, "external_id", "duplicate_external_id", f" (line {first_ext})"))
            if problems:
                errors.extend(problems)
            elif row is not None:
                rows.append(row)
    except csv.Error as exc:
        raise FileError("bad_csv", f"Not a CSV file at line {reader.line_num}: {exc}") from exc
    return Parsed(encoding=encoding, columns=[n for n in names if n], ignored=ignored, rows=rows, errors=errors, total=total)
