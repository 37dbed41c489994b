"""Importing a brand's existing member list as pre-members (issue 17): the file read and checked
row by row, dry runs, idempotency, the opening ledger entries, and the CLI and console routes."""
from __future__ import annotations

import codecs
from datetime import date

import pytest
from sqlalchemy import func, select

from models.ledger import LedgerEntry
from models.member import Member
from models.member_csv import FileError, parse_date, parse_file
from models.member_import import MemberImport, MemberImportKey
from models.premember import Premember
from models.tag import MemberTag, Tag
from models.tier import TierChange
from handlers.texts import ZH_TW as TEXTS
from tests.conftest import all_text

TODAY = date(2026, 12, 4)
MESSY = (
    "姓名,手機,生日,性別,點數,集點,等級,加入日期,標籤,外部編號,備註\n"
    "王小明,0912-345-678,79/05/20,男,\"1,200\",3,銀卡,2020/01/02,常客、咖啡,A001,老客人\n"
    "李小美,0912345678,1990-02-30,X,-5,1.5,鑽石卡,2999-01-01,,A002,\n"
    "陳大文,0922333444,1985-07-07,女,10,abc,,,,A001,\n"
    "\n"
    "林一,12345,,,,,,,,A003,\n"
    "張三,+886 933 444 555,,其他,0,0,,,,,\n"
)
EXPECTED = [
    (3, "birthday", "invalid_date"), (3, "gender", "invalid_gender"), (3, "points", "negative"), (3, "stamps", "invalid_number"),
    (3, "tier", "unknown_tier"), (3, "joined_on", "date_in_future"),
    (4, "stamps", "invalid_number"),
    (6, "phone", "invalid_phone"),
]


def errors_of(report_errors) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    return [(e["line"], e["column"], e["code"]) if isinstance(e, dict) else (e.line, e.column, e.code) for e in report_errors]


# --- reading the file (no database) --------------------------------------------------------

@pytest.mark.parametrize("encoding,name", [("cp950", "cp950"), ("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8")])
def test_a_messy_file_in_big5_or_utf8_gets_every_rows_errors(encoding, name):  # type: ignore[no-untyped-def]
    data = MESSY.encode(encoding)
    assert data.startswith(codecs.BOM_UTF8) == (encoding == "utf-8-sig")
    parsed = parse_file(data, today=TODAY, tiers={"銀卡", "silver"})
    assert parsed.encoding == name
    assert parsed.ignored == ["備註"] and parsed.total == 5  # the blank line is not a row
    assert errors_of(parsed.errors) == EXPECTED
    first, last = parsed.rows
    assert (first.line, first.phone, first.name, first.birthday_on, first.gender) == (2, "0912345678", "王小明", date(1990, 5, 20), "male")
    assert (first.points, first.stamps, first.tier, first.joined_on, first.tags, first.key) == (1200, 3, "銀卡", date(2020, 1, 2), ["常客", "咖啡"], "ext:A001")
    assert (last.phone, last.gender, last.key) == ("0933444555", "other", "phone:0933444555")
    messages = {e.code: e.message for e in parsed.errors}
    assert messages["invalid_date"] == "birthday is not a date (2026-05-20, 2026/5/20 or 民國 79/05/20): 1990-02-30"


def test_duplicates_within_the_file_are_errors_on_the_later_line():  # type: ignore[no-untyped-def]
    data = ("name,phone,external_id\n甲,0912345678,A1\n乙,0912345678,A2\n丙,0922000111,A1\n").encode()
    parsed = parse_file(data, today=TODAY)
    assert [r.line for r in parsed.rows] == [2]
    assert [(e.line, e.column, e.code, e.message) for e in parsed.errors] == [
        (3, "phone", "duplicate_phone", "phone is on an earlier line of the file too (line 2)"),
        (4, "external_id", "duplicate_external_id", "external_id is on an earlier line of the file too (line 2)")]


def test_english_headers_in_any_case_and_files_it_cannot_read():  # type: ignore[no-untyped-def]
    parsed = parse_file(b"Name,PHONE,Joined Date,Points\nA,0912345678,2020-01-01,5\n", today=TODAY)
    assert parsed.columns == ["name", "phone", "joined_on", "points"] and parsed.rows[0].points == 5
    for data, code in ((b"", "no_header"), (b"name,birthday\nA,1990-01-01\n", "no_phone_column"),
                       (b"phone,\xe6\x89\x8b\xe6\xa9\x9f\n", "duplicate_column"), (b"phone\n\xff\xfe\xff", "undecodable")):
        with pytest.raises(FileError) as caught:
            parse_file(data, today=TODAY)
        assert caught.value.code == code


@pytest.mark.parametrize("raw,day", [("1990-05-20", date(1990, 5, 20)), ("1990/5/2", date(1990, 5, 2)), ("19900520", date(1990, 5, 20)),
                                     ("79/05/20", date(1990, 5, 20)), ("民國79/5/20", date(1990, 5, 20)), ("1150101", date(2026, 1, 1)),
                                     ("1990年5月20日", date(1990, 5, 20)), ("1990-02-30", None), ("May 5", None), ("", None)])
def test_dates_as_taiwanese_software_writes_them(raw, day):  # type: ignore[no-untyped-def]
    assert parse_date(raw) == day


# --- against the database ----------------------------------------------------------------

def upload(client, counter, data: bytes, *, dry_run: bool = False, store: str | None = None):  # type: ignore[no-untyped-def]
    query = "?dry_run=1" if dry_run else "?filename=members.csv"
    if store:
        query += f"&store={store}"
    return client.post(f"/api/v1/admin/member-imports{query}", data=data, headers={**counter.admin, "Content-Type": "text/csv"})


def counts(db) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return (s.scalar(select(func.count()).select_from(Member)), s.scalar(select(func.count()).select_from(LedgerEntry)),
                s.scalar(select(func.count()).select_from(MemberTag)), s.scalar(select(func.count()).select_from(TierChange)))


GOOD = ("姓名,手機,生日,性別,點數,集點,等級,加入日期,標籤,外部編號\n"
        "王小明,0912345678,1990/05/20,男,1200,3,銀卡,2020/01/02,常客、咖啡,A001\n"
        "李小美,0922333444,,女,0,5,,,,A002\n"
        "陳大文,0933444555,,,80,0,gold,,,\n")


def run_import(client, counter, data: bytes) -> dict:  # type: ignore[no-untyped-def,type-arg]
    from bot.jobs import worker as tasks

    resp = upload(client, counter, data)
    assert resp.status_code == 202, resp.get_json()
    tasks.wait_for_jobs()
    job = client.get(f"/api/v1/admin/member-imports/{resp.get_json()['import']['id']}", headers=counter.admin)
    assert job.status_code == 200
    return job.get_json()["import"]


def test_dry_run_reports_and_imports_nothing_then_the_import_and_a_second_run_change_nothing(client, counter, tiers, db):  # type: ignore[no-untyped-def]
    before = counts(db)
    report = upload(client, counter, GOOD.encode("cp950"), dry_run=True)
    assert report.status_code == 200, report.get_json()
    body = report.get_json()
    assert (body["dry_run"], body["encoding"], body["total"], body["to_import"], body["unchanged"], body["errors"]) == (True, "cp950", 3, 3, 0, [])
    assert counts(db) == before
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MemberImport)) == 0

    job = run_import(client, counter, GOOD.encode("cp950"))
    assert (job["status"], job["imported"], job["unchanged"], job["error_rows"]) == ("done", 3, 0, 0)
    after = counts(db)
    assert after == (before[0] + 3, before[1] + 4, before[2] + 2, before[3] + 2)
    with db.sessions() as s:
        ming = s.scalars(select(Member).where(Member.phone == "0912345678")).one()
        assert not ming.in_line and ming.is_member and ming.display_name == "王小明" and ming.gender == "male"
        assert ming.birthday_on == date(1990, 5, 20) and ming.joined_at.isoformat() == "2020-01-01T16:00:00+00:00"  # Taipei midnight
        assert s.get(Premember, ming.id).claim_code_hash is None  # the cashier gives the code
        tier_codes = {m.phone: m.tier_id for m in s.scalars(select(Member).where(Member.tier_id.is_not(None)))}
        assert set(tier_codes) == {"0912345678", "0933444555"}
        assert {tc.kind for tc in s.scalars(select(TierChange))} == {"import"}
        assert sorted(s.scalars(select(Tag.name).join(MemberTag).where(MemberTag.member_id == ming.id))) == ["咖啡", "常客"]
        # every balance is the sum of its import entries, one per currency
        for m in s.scalars(select(Member).where(Member.line_user_id.startswith("pre:"))):
            entries = list(s.scalars(select(LedgerEntry).where(LedgerEntry.member_id == m.id)))
            assert all(e.reason == "import" for e in entries) and len({e.currency for e in entries}) == len(entries)
        sums = dict(s.execute(select(LedgerEntry.currency, func.sum(LedgerEntry.amount)).where(LedgerEntry.reason == "import")
                              .group_by(LedgerEntry.currency)).all())
        assert sums == {"point": 1280, "stamp": 8}

    again = run_import(client, counter, GOOD.encode("utf-8-sig"))  # the same list, saved again as UTF-8
    assert (again["status"], again["imported"], again["unchanged"], again["error_rows"]) == ("done", 0, 3, 0)
    assert counts(db) == after
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MemberImportKey)) == 3


def test_database_errors_phones_in_line_or_at_the_counter_unknown_tiers(client, counter, tiers, make_member, db):  # type: ignore[no-untyped-def]
    make_member()  # a LINE member with 0912345678 (the join helper's phone)
    assert client.post("/api/v1/premembers", json={"phone": "0922333444"}, headers=counter.cashier).status_code == 201
    data = ("phone,tier,external_id\n0912345678,,X1\n0922333444,,X2\n0933444555,鑽石卡,X3\n0944555666,銀卡,X4\n").encode()
    body = upload(client, counter, data, dry_run=True).get_json()
    assert errors_of(body["errors"]) == [(2, "phone", "phone_in_line"), (3, "phone", "phone_premember"), (4, "tier", "unknown_tier")]
    assert (body["to_import"], body["error_rows"]) == (1, 3)
    job = run_import(client, counter, data)
    assert (job["imported"], job["error_rows"]) == (1, 3) and errors_of(job["errors"]) == errors_of(body["errors"])
    # the same phone under another external id later: refused, never a second pre-member
    again = upload(client, counter, b"phone,external_id\n0944555666,OTHER\n", dry_run=True).get_json()
    assert errors_of(again["errors"]) == [(2, "phone", "phone_imported")]


def test_an_imported_premember_joins_in_line_with_its_claim_code_and_gets_the_balance(client, counter, line, db):  # type: ignore[no-untyped-def]
    from tests.test_phone_premembers import OTHER, join_until_phone, scan

    run_import(client, counter, f"姓名,手機,點數,集點,外部編號\n小華,{OTHER},150,4,B9\n".encode())
    made = client.post("/api/v1/premembers", json={"phone": OTHER}, headers=counter.cashier)
    assert made.status_code == 200 and made.get_json()["created"] is False  # the imported pre-member, with a code now
    user = line.user("小華")
    join_until_phone(line, user, OTHER)
    assert "認領碼" in all_text(line.last(user))
    line.say(user, made.get_json()["claim_code"])
    line.tap(user, "action=join_step&v=female")
    assert "已將門市的集點紀錄轉入" in all_text(line.replies(user))
    summary = scan(client, counter, phone=OTHER).get_json()
    assert summary["balances"] == {"stamps": 4, "points": 150} and summary["in_line"] is True
    # importing the list again later changes nothing: the row was imported (and has joined since)
    job = run_import(client, counter, f"姓名,手機,點數,集點,外部編號\n小華,{OTHER},150,4,B9\n".encode())
    assert (job["imported"], job["unchanged"]) == (0, 1)
    assert scan(client, counter, phone=OTHER).get_json()["balances"] == {"stamps": 4, "points": 150}


def test_the_cli_dry_run_and_import_with_a_progress_bar(app, counter, tiers, db, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "members.csv"
    path.write_bytes((GOOD + "壞,123,,,,,,,,A009\n").encode("cp950"))
    runner = app.test_cli_runner()
    before = counts(db)
    dry = runner.invoke(args=["loyalty", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "line 5: phone: invalid_phone: phone is not a Taiwan mobile number" in dry.output
    assert "4 rows (cp950): would import 3, 0 unchanged (imported before), 1 with errors" in dry.output
    assert counts(db) == before
    done = runner.invoke(args=["loyalty", "import", str(path), "--batch-size", "2"])
    assert done.exit_code == 0, done.output
    assert "imported 3, 0 unchanged" in done.output and "importing" in done.output
    assert counts(db)[0] == before[0] + 3
    second = runner.invoke(args=["loyalty", "import", str(path)])
    assert "imported 0, 3 unchanged" in second.output and counts(db)[0] == before[0] + 3
    with db.sessions() as s:
        jobs = list(s.scalars(select(MemberImport).order_by(MemberImport.id)))
        assert [(j.status, j.imported_rows, j.created_by, j.content) for j in jobs] == [("done", 3, "cli", None), ("done", 0, "cli", None)]


def test_a_store_must_be_named_when_there_are_several(client, counter):  # type: ignore[no-untyped-def]
    assert client.post("/api/v1/admin/stores", json={"code": "TPE02", "name": "二店"}, headers=counter.admin).status_code == 201
    refused = upload(client, counter, GOOD.encode(), dry_run=True)
    assert (refused.status_code, refused.get_json()["code"]) == (422, "store_required")
    assert upload(client, counter, GOOD.encode(), dry_run=True, store="TPE02").status_code == 200
    bad = upload(client, counter, b"name\nA\n", dry_run=True, store="TPE02")
    assert (bad.status_code, bad.get_json()["code"]) == (422, "import_no_phone_column")


# --- a member's phone change in chat meets a pre-member ---------------------------------------

def test_changing_the_phone_to_a_premembers_asks_for_its_claim_code_and_merges_it(client, counter, make_member, line, db):  # type: ignore[no-untyped-def]
    from tests.test_phone_premembers import OTHER, scan

    run_import(client, counter, f"姓名,手機,點數,集點,外部編號\n小明,{OTHER},90,2,C1\n".encode())
    code = client.post("/api/v1/premembers", json={"phone": OTHER}, headers=counter.cashier).get_json()["claim_code"]
    user, number = make_member()  # joined with 0912345678
    line.tap(user, "action=profile_edit&field=phone")
    line.say(user, OTHER)
    assert "認領碼" in all_text(line.last(user))
    line.say(user, "0000-0000" if code != "00000000" else "1111-1111")
    assert "認領碼不正確" in all_text(line.last(user))
    with db.sessions() as s:
        assert s.scalar(select(Member.phone).where(Member.line_user_id == user)) == "0912345678"  # unchanged until the code
    line.say(user, code)
    assert "已將門市的集點紀錄轉入您的會員帳號（2 筆紀錄、0 張優惠券），手機號碼也已更新" in all_text(line.replies(user))
    summary = scan(client, counter, phone=OTHER).get_json()
    assert summary["member_no"] == number and summary["balances"] == {"stamps": 2, "points": 90}


def test_a_premembers_phone_in_the_profile_cancelled_or_another_line_members_changes_nothing(client, counter, make_member, line, db):  # type: ignore[no-untyped-def]
    from tests.test_phone_premembers import OTHER

    run_import(client, counter, f"手機\n{OTHER}\n".encode())
    user, _ = make_member()
    line.tap(user, "action=profile_edit&field=phone")
    line.say(user, f"+886{OTHER[1:]}")
    assert "認領碼" in all_text(line.last(user))
    line.say(user, "取消")
    assert TEXTS["profile_edit_cancelled"] in all_text(line.last(user))
    with db.sessions() as s:
        assert s.scalar(select(Member.phone).where(Member.line_user_id == user)) == "0912345678"
        assert s.scalar(select(func.count()).select_from(Premember).where(Premember.phone == OTHER)) == 1  # still waiting
    # a pre-member's phone that another LINE member gave too: refused and asked again, never merged
    other, _ = make_member("小美")
    with db.transaction() as s:
        s.execute(Member.__table__.update().where(Member.line_user_id == other).values(phone=OTHER))
    line.tap(user, "action=profile_edit&field=phone")
    line.say(user, OTHER)
    assert "已有其他 LINE 會員使用這個號碼" in all_text(line.last(user))
    with db.sessions() as s:
        assert s.scalar(select(Member.phone).where(Member.line_user_id == user)) == "0912345678"
        assert s.scalar(select(func.count()).select_from(Premember).where(Premember.phone == OTHER)) == 1
