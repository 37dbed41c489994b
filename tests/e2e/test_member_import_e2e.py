"""An owner imports the brand's old member list in the console (設定 › 匯入會員): a Big5 file with
errors is tried first (試算: the report per line, nothing written), then imported with a progress
bar to its finished state; the members list labels them 「尚未加入 LINE」, and a second import
changes nothing. Screenshots: artifacts/screenshots/admin-30…31-import-*.png."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.e2e.admin_helpers import expect, make_account, shoot, sign_in
from tests.e2e.admin_helpers import console  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(240)

LIST = ("姓名,手機,生日,性別,點數,集點,等級,加入日期,標籤,外部編號\n"
        "王小明,0912345678,1990/05/20,男,1200,3,銀卡,2020/01/02,常客,A001\n"
        "李小美,0922333444,1990-02-30,女,50,0,,,,A002\n"
        "陳大文,0933444555,,,-5,2,鑽石卡,,,A003\n"
        "林一,0944555666,,,80,1,,,,A004\n")


def test_an_owner_tries_then_imports_the_member_list_with_progress(console, live_url, app, client, counter, tiers, db, tmp_path):  # noqa: F811
    from models.member import Member

    check = expect()
    make_account(app, "owner")
    path = tmp_path / "舊會員.csv"
    path.write_bytes(LIST.encode("cp950"))
    sign_in(console, live_url, "/admin/settings/import")
    check(console.get_by_role("link", name="匯入會員")).to_have_attribute("aria-current", "page")

    console.get_by_role("button", name="試算").click()
    check(console.get_by_role("alert")).to_have_text("請先選擇 CSV 檔案")
    console.get_by_label("CSV 檔案").set_input_files(str(path))
    console.get_by_role("button", name="試算").click()
    report = console.get_by_role("region", name="試算結果（尚未匯入任何資料）")
    check(report).to_contain_text("共 4 筆（Big5）")
    check(report).to_contain_text("可匯入 2 筆")
    check(report).to_contain_text("有錯誤 2 筆（不會匯入）")
    errors = report.get_by_role("table", name="錯誤明細")
    check(errors.get_by_role("row")).to_have_count(4)  # the header and three errors on two lines
    check(errors.get_by_role("row").nth(1)).to_have_text(re.compile(r"3\s*生日\s*日期格式不正確"))
    check(errors.get_by_role("row").nth(2)).to_have_text(re.compile(r"4\s*點數\s*不可為負數"))
    check(errors.get_by_role("row").nth(3)).to_have_text(re.compile(r"4\s*等級\s*沒有這個會員等級"))
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 0  # the dry run wrote nothing
    shoot(console, "30-import-dry-run")

    console.get_by_role("button", name="開始匯入").click()
    bar = console.get_by_role("progressbar", name="匯入進度")
    check(bar).to_have_attribute("aria-valuenow", "100")
    check(console.locator("#importStatus")).to_have_text(re.compile("完成.*匯入 2 筆，不變 0 筆"))
    check(console.get_by_role("region", name="匯入結果")).to_contain_text("有錯誤 2 筆")
    shoot(console, "31-import-done")
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 2

    console.get_by_role("button", name="開始匯入").click()  # the same file again
    check(console.locator("#importStatus")).to_have_text(re.compile("完成.*匯入 0 筆，不變 2 筆"))
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 2

    console.get_by_role("link", name="會員", exact=True).click()
    row = console.get_by_role("row", name=re.compile("王小明"))
    check(row).to_contain_text("尚未加入 LINE")
