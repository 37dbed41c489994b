"""Rich menus: definitions LINE accepts, images LINE takes, a deploy that replaces and cleans up,
members linked on joining, on a tier change and in bulk, and an answer for every menu action."""
from __future__ import annotations

import io
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from linebot.v3.messaging import RichMenuRequest
from PIL import Image, ImageStat
from sqlalchemy import select

from handlers.router import POSTBACKS
from models.member import Member
from models.richmenu import RichMenuDeployment, member_menu_id
from models.tier import Tier
from bot.cli.richmenu_deploy import BULK_LIMIT, DeployError, deploy, prepare
from richmenus.menus import ROOT, MenuError, load_menus
from richmenus.render import MAX_BYTES, Fonts, RenderError, image_for, source_hash
from tests.conftest import all_text

MENUS = load_menus()
NAMES = [m.name for m in MENUS]
BULK_LINK = "/v2/bot/richmenu/bulk/link"


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.with_overrides(dev_tools=True)  # the simulator's rich menu endpoints


@pytest.fixture
def run_deploy(app):  # type: ignore[no-untyped-def]
    svc = app.extensions["loyalty"]
    prepared = prepare()  # the committed images (drawn again only when stale)

    def run(**kw):  # type: ignore[no-untyped-def]
        lines: list[str] = []
        report = deploy(svc.line, svc.db, now=svc.now, echo=lines.append, menus=prepared, **kw)
        report.lines = lines  # type: ignore[attr-defined]
        return report

    return run


@pytest.fixture
def menu_root(tmp_path: Path) -> Path:
    """A copy of richmenus/ without images, to draw and break at will."""
    shutil.copytree(ROOT / "definitions", tmp_path / "definitions")
    shutil.copy(ROOT / "theme.json", tmp_path / "theme.json")
    return tmp_path


# --- definitions -----------------------------------------------------------------------

@pytest.mark.parametrize("menu", MENUS, ids=NAMES)
def test_each_definition_is_accepted_by_the_spec(app, fake_line, menu):  # type: ignore[no-untyped-def]
    api = app.extensions["loyalty"].line.api
    api.validate_rich_menu_object(RichMenuRequest.from_dict(menu.definition))
    [rec] = fake_line.requests("/v2/bot/richmenu/validate")
    assert rec.status == 200 and rec.json == menu.definition  # sent exactly as written
    assert fake_line.violations == []


def test_every_action_is_one_the_bot_answers():
    for menu in MENUS:
        for area in menu.definition["areas"]:
            action = area["action"]
            data = dict(p.split("=", 1) for p in action["data"].split("&"))
            assert data["action"] in POSTBACKS, (menu.name, action)
            if action["type"] == "richmenuswitch":
                assert action["richMenuAliasId"] in NAMES
            else:
                assert action["type"] == "postback" and action["displayText"]


@pytest.mark.parametrize("breakage, message", [
    (lambda d, s: d["size"].update(height=2000), "width/height"),
    (lambda d, s: d["areas"][0]["bounds"].update(x=2000), "outside"),
    (lambda d, s: d["areas"][0]["action"].update(richMenuAliasId="nowhere"), "no menu named 'nowhere'"),
    (lambda d, s: d.update(chatBarText="一二三四五六七八九十一二三四五"), "chatBarText"),
    (lambda d, s: s["tiles"].pop(), "tiles for 5 areas"),
])
def test_local_checks_name_the_mistake(menu_root, breakage, message):  # type: ignore[no-untyped-def]
    path, style_path = menu_root / "definitions" / "member-card.json", menu_root / "definitions" / "member-card.style.json"
    definition, style = json.loads(path.read_text()), json.loads(style_path.read_text())
    breakage(definition, style)
    path.write_text(json.dumps(definition, ensure_ascii=False))
    style_path.write_text(json.dumps(style, ensure_ascii=False))
    with pytest.raises(MenuError, match=re.escape(message)):
        load_menus(menu_root)


# --- images ----------------------------------------------------------------------------

def test_images_are_drawn_in_the_menus_size_under_1_mb_with_their_labels(menu_root):
    fonts = Fonts({})
    assert "CJK" in fonts.get(40).getname()[0]  # Noto Sans CJK TC (fonts-noto-cjk)
    for menu in load_menus(menu_root):
        image = image_for(menu, menu_root, fonts=fonts)
        assert image.origin == "rendered" and image.path == menu_root / "images" / f"{menu.name}.png"
        assert image.content_type == "image/png" and len(image.data) < MAX_BYTES
        with Image.open(io.BytesIO(image.data)) as png:
            assert png.format == "PNG" and png.size == menu.size
            for area in menu.definition["areas"]:  # the label band of every area has ink on it
                b = area["bounds"]
                band = png.convert("L").crop((b["x"] + b["width"] // 4, b["y"] + b["height"] * 3 // 5,
                                              b["x"] + b["width"] * 3 // 4, b["y"] + b["height"] * 4 // 5))
                if b["height"] < 300:  # a tab: the label is in the middle
                    band = png.convert("L").crop((b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]))
                assert ImageStat.Stat(band).stddev[0] > 20, (menu.name, area["action"]["label"])
        assert image_for(menu, menu_root, fonts=fonts).origin == "cached"  # unchanged sources: not drawn again


def test_cjk_glyphs_are_real_glyphs_not_boxes():
    font = Fonts({}).get(100)
    assert bytes(font.getmask("會")) != bytes(font.getmask("員"))  # missing glyphs all draw the same box


def test_the_committed_images_are_up_to_date():
    for menu in MENUS:
        with Image.open(ROOT / "images" / f"{menu.name}.png") as png:
            assert png.info.get("richmenu-source") == source_hash(menu), f"run: flask --app bot richmenu render ({menu.name})"


def test_a_changed_label_draws_the_image_again(menu_root):
    menu = next(m for m in load_menus(menu_root) if m.name == "guest")
    first = image_for(menu, menu_root)
    path = menu_root / "definitions" / "guest.json"
    path.write_text(path.read_text().replace('"label": "品牌故事"', '"label": "關於我們"'))
    again = image_for(next(m for m in load_menus(menu_root) if m.name == "guest"), menu_root)
    assert again.origin == "rendered" and again.data != first.data


def test_a_brands_own_image_is_used_once_checked(menu_root):
    menu = next(m for m in load_menus(menu_root) if m.name == "guest")
    custom = menu_root / "images" / "custom"
    custom.mkdir(parents=True)
    Image.new("RGB", (2500, 843), "#123456").save(custom / "guest.jpg", "JPEG")
    with pytest.raises(RenderError, match="2500x843, but the menu is 2500x1686"):
        image_for(menu, menu_root)
    Image.new("RGB", (2500, 1686), "#123456").save(custom / "guest.jpg", "JPEG")
    image = image_for(menu, menu_root)
    assert (image.origin, image.content_type) == ("custom", "image/jpeg")
    (custom / "guest.jpg").write_bytes(b"GIF89a not really")
    with pytest.raises(RenderError, match="not an image"):
        image_for(menu, menu_root)


# --- deploy ----------------------------------------------------------------------------

def current(db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        return {r.name: r.rich_menu_id for r in s.scalars(select(RichMenuDeployment).where(RichMenuDeployment.retired_at.is_(None)))}


def test_deploy_creates_then_replaces_and_cleans_up(run_deploy, fake_line, db, clock):  # type: ignore[no-untyped-def]
    first = run_deploy()
    assert set(first.created) == set(NAMES) and set(fake_line.richmenus) == set(first.created.values())
    assert all(fake_line.richmenu_images[m][0] == "image/png" for m in fake_line.richmenus)
    assert [r.host for r in fake_line.requests(re.compile(r"/content$"))] == ["api-data"] * len(NAMES)
    assert fake_line.default_richmenu == first.created["guest"]
    assert fake_line.aliases == first.created and set(first.aliases.values()) == {"created"}
    assert current(db) == first.created
    assert any(line.startswith("created guest: richmenu-") for line in first.lines)

    clock.advance(minutes=5)
    second = run_deploy()
    assert set(second.created.values()).isdisjoint(first.created.values())
    assert set(fake_line.richmenus) == set(second.created.values())  # the old ones deleted, nothing leaked
    assert sorted(second.deleted) == sorted(first.created.values())
    assert fake_line.default_richmenu == second.created["guest"]
    assert fake_line.aliases == second.created and set(second.aliases.values()) == {"updated"}
    assert current(db) == second.created
    assert f"deleted {len(NAMES)} menus of the previous deploy" in second.lines
    with db.sessions() as s:
        rows = list(s.scalars(select(RichMenuDeployment)))
    assert len(rows) == 2 * len(NAMES) and sum(r.deleted_at is not None for r in rows) == len(NAMES)
    assert fake_line.violations == []


def test_deploy_only_deletes_menus_it_made(run_deploy, fake_line, app):  # type: ignore[no-untyped-def]
    fake_line.richmenus["richmenu-made-by-hand"] = {"richMenuId": "richmenu-made-by-hand"}
    run_deploy()
    run_deploy()
    assert "richmenu-made-by-hand" in fake_line.richmenus


def test_a_deleted_menu_that_is_already_gone_counts_as_deleted(run_deploy, fake_line, db):  # type: ignore[no-untyped-def]
    first = run_deploy()
    fake_line.clear()  # LINE lost everything (a fresh fake, as in every demo start)
    second = run_deploy()
    assert sorted(second.deleted) == sorted(first.created.values()) and second.not_deleted == []


def test_nothing_is_created_when_line_rejects_a_definition(run_deploy, fake_line, db):  # type: ignore[no-untyped-def]
    fake_line.inject("/v2/bot/richmenu/validate", 400, body={"message": "The request body has 1 error(s)"})
    with pytest.raises(DeployError, match="validate guest: LINE answered 400"):
        run_deploy()
    assert fake_line.requests("/v2/bot/richmenu", method="POST") == [] and current(db) == {}


def test_a_failed_upload_deletes_what_the_run_created(run_deploy, fake_line, db):  # type: ignore[no-untyped-def]
    fake_line.inject(re.compile(r"^/v2/bot/richmenu/[^/]+/content$"), 500, times=1)
    with pytest.raises(DeployError, match="create 1/"):
        run_deploy()
    assert fake_line.richmenus == {} and current(db) == {}


def test_the_fake_checks_lines_rules_beyond_the_schema(app, fake_line):  # type: ignore[no-untyped-def]
    from linebot.v3.messaging import ApiException

    bad = json.loads(json.dumps(MENUS[0].definition))
    bad["areas"][0]["bounds"]["width"] = 9999
    with pytest.raises(ApiException) as err:
        app.extensions["loyalty"].line.api.validate_rich_menu_object(RichMenuRequest.from_dict(bad))
    assert err.value.status == 400 and "inside the rich menu" in err.value.body
    fake_line.violations.clear()


def test_the_cli_renders_and_deploys(app, fake_line):  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    out = runner.invoke(args=["richmenu", "render"])
    assert out.exit_code == 0, out.output
    assert "member-card: 2500x1686, member-card.png, PNG" in out.output
    out = runner.invoke(args=["richmenu", "deploy"])
    assert out.exit_code == 0, out.output
    for expected in ("validated 4 menus", "created guest: richmenu-", "default menu: guest", "aliases: ", "linked 0 members",
                     "no earlier menus to delete", "rich menus deployed"):
        assert expected in out.output
    assert len(fake_line.richmenus) == len(NAMES)


# --- linking ---------------------------------------------------------------------------

def test_joining_links_the_member_menu(run_deploy, line, fake_line, db):  # type: ignore[no-untyped-def]
    run_deploy()
    user = line.user()
    line.follow(user)
    assert user not in fake_line.user_richmenus  # a guest sees the default (guest) menu
    line.join(user)
    with db.sessions() as s:
        assert fake_line.user_richmenus[user] == member_menu_id(s)


def test_joining_without_deployed_menus_links_nothing(line, fake_line):  # type: ignore[no-untyped-def]
    user = line.user()
    line.join(user)
    assert fake_line.requests(re.compile(r"^/v2/bot/user/.+/richmenu/")) == []


def test_a_tier_upgrade_links_the_tiers_variant(run_deploy, tiers, counter, make_member, fake_line, db):  # type: ignore[no-untyped-def]
    report = run_deploy()
    assert report.tiers == {"basic": report.created["member-card"], "silver": report.created["member-card"],
                            "gold": report.created["tier-gold"]}
    user, number = make_member()
    assert fake_line.user_richmenus[user] == report.created["member-card"]
    counter.award(number, "R-1", amount=10000)
    assert fake_line.user_richmenus[user] == report.created["tier-gold"]
    again = run_deploy()  # tiers follow the new menus; the gold member is relinked to the new variant
    with db.sessions() as s:
        assert s.scalar(select(Tier.richmenu_id).where(Tier.code == "gold")) == again.created["tier-gold"]
    assert fake_line.user_richmenus[user] == again.created["tier-gold"]


def test_moving_down_from_a_variant_tier_links_the_member_menu_again(app, run_deploy, tiers, counter, make_member,
                                                                    fake_line, clock):  # type: ignore[no-untyped-def]
    report = run_deploy()
    user, number = make_member()
    counter.award(number, "R-1", amount=10000)
    assert fake_line.user_richmenus[user] == report.created["tier-gold"]
    clock.advance(days=366)  # the gold period ends with nothing spent in the window
    out = app.test_cli_runner().invoke(args=["loyalty", "daily"])
    assert out.exit_code == 0, out.output
    assert fake_line.user_richmenus[user] == report.created["member-card"]


def test_a_tier_menu_set_by_hand_is_left_alone(run_deploy, tiers, client, counter, db):  # type: ignore[no-untyped-def]
    client.put("/api/v1/admin/tiers/silver", json={"richmenu_id": "richmenu-by-hand"}, headers=counter.admin)
    run_deploy()
    with db.sessions() as s:
        assert s.scalar(select(Tier.richmenu_id).where(Tier.code == "silver")) == "richmenu-by-hand"


def test_deploy_relinks_existing_members_500_at_a_time(run_deploy, db, fake_line):  # type: ignore[no-untyped-def]
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with db.transaction() as s:
        s.add_all(Member(line_user_id=f"U{i:032x}", member_no=f"9{i:08d}", is_reachable=i % 100 != 0, followed_at=now,
                         joined_at=now if i < 1200 else None, created_at=now) for i in range(1250))
    report = run_deploy()
    calls = fake_line.requests(BULK_LINK)
    linked = [u for c in calls for u in c.json["userIds"]]
    expected = {f"U{i:032x}" for i in range(1200) if i % 100 != 0}  # joined and reachable
    assert len(calls) == 3 and all(len(c.json["userIds"]) <= BULK_LIMIT for c in calls)
    assert set(linked) == expected and len(linked) == len(expected)
    assert {c.json["richMenuId"] for c in calls} == {report.created["member-card"]}
    assert report.linked == {"member-card": len(expected)} and report.link_calls == 3
    assert sum(1 for u in expected if fake_line.user_richmenus.get(u) == report.created["member-card"]) == len(expected)
    bulk = [r.seq for r in calls]
    deletes = [r.seq for r in fake_line.requests(re.compile(r"^/v2/bot/richmenu/richmenu-"), method="DELETE")]
    assert not deletes or max(bulk) < min(deletes)  # relinked before anything is deleted


# --- every action answers --------------------------------------------------------------

def replies_to(line, user, data, params=None) -> list[dict]:  # type: ignore[no-untyped-def]
    before = len(line.fake.messages_to(user))
    resp = line.tap(user, data, params)
    assert resp.status_code == 200
    return [m for d in line.fake.messages_to(user)[before:] for m in d["messages"]]


def test_every_menu_action_gets_a_sensible_answer(run_deploy, line, counter, make_member, fake_line):  # type: ignore[no-untyped-def]
    run_deploy()
    guest = line.user("訪客")
    line.follow(guest)
    member, number = make_member("小美")
    expected = {"join": "會員條款", "about": "關於 好日子咖啡", "stores": "台北信義店", "card": number,
                "stamps": "集點卡", "coupons": "優惠券", "benefits": "會員", "invite": "我的邀請碼",
                "profile": "0912-***-678"}
    for menu in MENUS:
        user = guest if menu.name == "guest" else member
        for area in menu.definition["areas"]:
            action = area["action"]
            kind = dict(p.split("=", 1) for p in action["data"].split("&"))["action"]
            if action["type"] == "richmenuswitch":
                params = {"newRichMenuAliasId": action["richMenuAliasId"], "status": "SUCCESS"}
                assert replies_to(line, user, action["data"], params) == []  # LINE switched it: nothing to say
                failed = replies_to(line, user, action["data"], {**params, "status": "RICHMENU_ALIAS_ID_NOTFOUND"})
                assert "選單切換失敗" in all_text(failed)
                continue
            text = all_text(replies_to(line, user, action["data"]))
            assert expected[kind] in text, (menu.name, kind, text)
            assert "您可以點選下方按鈕" not in text  # not the fallback help
            if kind == "join":
                line.say(user, "取消")  # leave the join flow, or it answers the next taps
    profile = all_text(replies_to(line, member, "action=profile"))
    assert f"{line.birthday:%Y/%m/%d}" in profile and "0912345678" not in profile and "女" in profile
    assert fake_line.violations == []


def test_menu_texts_work_as_typed_commands_too(line, make_member):  # type: ignore[no-untyped-def]
    user, _ = make_member()
    for typed, expected in (("邀請好友", "我的邀請碼"), ("會員資料", "入會日期"), ("品牌故事", "關於"), ("門市據點", "門市")):
        before = len(line.fake.messages_to(user))
        line.say(user, typed)
        assert expected in all_text(line.fake.messages_to(user)[before:]), typed


# --- the simulator's view of the fake --------------------------------------------------

def test_the_simulator_shows_the_users_menu(run_deploy, client, line, fake_line):  # type: ignore[no-untyped-def]
    report = run_deploy()
    user = line.user()
    shown = client.get(f"/dev/simulator/richmenu?userId={user}").get_json()
    assert shown["richMenuId"] == report.created["guest"] and shown["linked"] is False
    assert shown["menu"]["chatBarText"] == "選單・加入會員"
    image = client.get(shown["imageUrl"])
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")
    line.join(user)
    shown = client.get(f"/dev/simulator/richmenu?userId={user}").get_json()
    assert shown["richMenuId"] == report.created["member-card"] and shown["linked"] is True
    tab = client.get("/dev/simulator/richmenu?aliasId=member-more").get_json()
    assert tab["richMenuId"] == report.created["member-more"] and tab["aliases"] == ["member-more"]
    assert client.get("/dev/simulator/richmenu/richmenu-nope/image").status_code == 404
