"""/terms: a real terms and privacy page (PDPA notice items, the member's rights), the brand's own
text per version from TERMS_DIR, and every version a member consented to still readable."""
from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings
from tests.conftest import all_text


def test_the_built_in_terms_name_the_brand_and_the_members_rights(client):
    page = client.get("/terms")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<h1>好日子咖啡會員條款與隱私權政策</h1>" in html
    for part in ("蒐集目的", "利用期間", "您的權利", "我的資料", "刪除會員資料", "版本 2026-01"):
        assert part in html, part
    assert "<script" not in html and "script-src" not in page.headers["Content-Security-Policy"]
    assert client.get("/terms?version=2025-01").status_code == 404  # never published


def test_a_brands_own_versions_stay_readable(tmp_path, settings, clock):
    from bot.app import create_app

    (tmp_path / "2026-01.md").write_text("# 舊條款\n\n第一版內容 <b>不是 HTML</b>", encoding="utf-8")
    (tmp_path / "2026-06.md").write_text("# {brand} 條款\n\n1. 第一條\n2. 第二條", encoding="utf-8")
    app = create_app(settings.with_overrides(terms_dir=str(tmp_path), terms_version="2026-06"))
    app.extensions["loyalty"].clock = clock
    client = app.test_client()
    now = client.get("/terms").get_data(as_text=True)
    assert "<h1>好日子咖啡 條款</h1>" in now and "<li>第一條</li><li>第二條</li>" in now and "版本 2026-06" in now
    old = client.get("/terms?version=2026-01").get_data(as_text=True)
    assert "第一版內容 &lt;b&gt;不是 HTML&lt;/b&gt;" in old and "舊版" in old
    assert client.get("/terms?version=../../etc/passwd").status_code == 404
    app.extensions["loyalty"].db.dispose()


def test_a_terms_version_without_its_text_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="TERMS_DIR has no 2026-09.md"):
        Settings(app_env="test", terms_dir=str(tmp_path), terms_version="2026-09")


def test_the_consent_step_links_the_version_it_records(line):
    user = line.user("小禾")
    line.follow(user)
    line.tap(user, "action=join")
    assert "/terms?version=2026-01" in all_text(line.last(user))
