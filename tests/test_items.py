"""What members buy: receipt line items stored with awards and claim codes, the product catalogue,
unknown SKUs listed and later mapped, the tolerance on the items' total, and the history in chat."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from models.ledger import Award, LedgerEntry
from models.product import AwardItem, Product
from tests.conftest import all_text

LATTE = {"sku": "LATTE", "name": "拿鐵(熱)", "qty": 2, "unit_price": 65}
CROISSANT = {"sku": "CRS01", "name": "可頌", "qty": 1, "unit_price": "55.00"}


def award(client, counter, number: str, receipt_id: str, items, amount=185, **extra):  # type: ignore[no-untyped-def]
    body = {"member_no": number, "receipt_id": receipt_id, "amount": amount, "items": items, **extra}
    return client.post("/api/v1/awards", json=body, headers=counter.cashier)


def put_products(client, counter, rows):  # type: ignore[no-untyped-def]
    return client.put("/api/v1/admin/products", json=rows, headers=counter.admin)


def stored(db, receipt_id: str) -> list[AwardItem]:  # type: ignore[no-untyped-def]
    with db.sessions() as s:
        award_id = s.scalar(select(Award.id).where(Award.receipt_id == receipt_id))
        return list(s.scalars(select(AwardItem).where(AwardItem.award_id == award_id).order_by(AwardItem.line_no)))


def test_items_are_stored_with_the_award_linked_to_the_catalogue(client, counter, make_member, db, clock):
    assert put_products(client, counter, [{"sku": "LATTE", "name": "拿鐵", "category": "咖啡", "price": 65}]).status_code == 200
    _, number = make_member()
    resp = award(client, counter, number, "R-1", [LATTE, CROISSANT])
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["award"]["items"] == 2
    latte, croissant = stored(db, "R-1")
    with db.sessions() as s:
        product = s.scalars(select(Product).where(Product.sku == "LATTE")).one()
        award_row = s.scalars(select(Award).where(Award.receipt_id == "R-1")).one()
    assert (latte.sku, latte.product_id, latte.name, latte.category) == ("LATTE", product.id, "拿鐵(熱)", "咖啡")
    assert (latte.qty, latte.unit_price, latte.line_total) == (2, Decimal("65.00"), Decimal("130.00"))
    assert (croissant.product_id, croissant.category, croissant.line_total) == (None, None, Decimal("55.00"))
    assert latte.member_id == award_row.member_id and latte.awarded_at == award_row.created_at == clock.now
    assert latte.store_id == award_row.store_id


def test_a_replay_with_the_same_items_is_a_replay_and_other_items_are_refused(client, counter, make_member, db):
    _, number = make_member()
    assert award(client, counter, number, "R-1", [LATTE, CROISSANT]).status_code == 201
    # the same lines in another order, the price written otherwise, another POS name: the same items
    again = award(client, counter, number, "R-1", [{**CROISSANT, "name": "牛角"}, {**LATTE, "unit_price": "65.00"}])
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["award"]["replayed"] is True
    split = award(client, counter, number, "R-1", [CROISSANT, {**LATTE, "qty": 1}, {**LATTE, "qty": 1}])
    assert split.status_code == 200 and split.get_json()["award"]["replayed"] is True  # per SKU and price, the quantities
    other = award(client, counter, number, "R-1", [{**LATTE, "qty": 1}, {**CROISSANT, "sku": "MUF01", "unit_price": 120}])
    assert other.status_code == 409 and other.get_json()["code"] == "receipt_already_awarded"
    assert other.get_json()["details"]["items"] == "differ"
    none = client.post("/api/v1/awards", json={"member_no": number, "receipt_id": "R-1", "amount": 185}, headers=counter.cashier)
    assert none.status_code == 409 and none.get_json()["code"] == "receipt_already_awarded"
    assert len(stored(db, "R-1")) == 2
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Award)) == 1


def test_items_must_add_up_to_the_amount_within_the_tolerance(client, counter, make_member, db):
    _, number = make_member()
    close = award(client, counter, number, "R-1", [LATTE, CROISSANT], amount="184.50")  # NT$0.50 off: POS rounding
    assert close.status_code == 201, close.get_json()
    off = award(client, counter, number, "R-2", [LATTE, CROISSANT], amount=180)
    assert off.status_code == 422
    body = off.get_json()
    assert body["code"] == "items_total_mismatch" and set(body) == {"code", "message", "details"}
    assert body["details"] == {"field": "items", "items_total": "185.00", "amount": "180.00", "difference": "5.00", "tolerance": "1.00"}
    with db.sessions() as s:
        assert s.scalar(select(Award.id).where(Award.receipt_id == "R-2")) is None
        assert s.scalar(select(func.count()).select_from(AwardItem)) == 2  # only R-1's


def test_the_tolerance_is_a_setting(app, client, counter, make_member):
    from dataclasses import replace

    svc = app.extensions["loyalty"]
    app.extensions["loyalty"] = replace(svc, settings=svc.settings.with_overrides(items_total_tolerance=Decimal(10)))
    try:
        _, number = make_member()
        assert award(client, counter, number, "R-1", [LATTE, CROISSANT], amount=180).status_code == 201
        far = award(client, counter, number, "R-2", [LATTE, CROISSANT], amount=170)
        assert far.status_code == 422 and far.get_json()["details"]["tolerance"] == "10.00"
    finally:
        app.extensions["loyalty"] = svc


def test_bad_lines_name_the_line_and_the_field(client, counter, make_member):
    _, number = make_member()
    for items, field in (([LATTE, {**CROISSANT, "qty": 0}], "items[1].qty"), ([{**LATTE, "sku": " "}], "items[0].sku"),
                         ([{**LATTE, "unit_price": 65.5}], "items[0].unit_price"), ([{**LATTE, "colour": "red"}], "items[0].colour"),
                         ([{**LATTE, "unit_price": -1}], "items[0].unit_price")):
        resp = award(client, counter, number, "R-1", items, amount=130)
        assert resp.status_code == 422 and resp.get_json()["code"] == "invalid_items", (items, resp.get_json())
        assert resp.get_json()["details"]["field"] == field
    not_a_list = award(client, counter, number, "R-1", {"sku": "LATTE"})
    assert not_a_list.status_code == 422 and not_a_list.get_json()["details"]["field"] == "items"


def test_a_visit_without_an_amount_keeps_its_items(client, counter, make_member, db):
    _, number = make_member()
    resp = client.post("/api/v1/awards", json={"member_no": number, "receipt_id": "V-1", "visit": True, "items": [LATTE]},
                       headers=counter.cashier)
    assert resp.status_code == 201, resp.get_json()
    assert [i.sku for i in stored(db, "V-1")] == ["LATTE"]


def test_unknown_skus_are_listed_then_mapped_by_creating_the_product(client, counter, make_member, db, clock):
    _, number = make_member()
    award(client, counter, number, "R-1", [LATTE, CROISSANT])
    clock.advance(minutes=5)
    award(client, counter, number, "R-2", [{**CROISSANT, "name": "可頌(奶油)", "qty": 3, "unit_price": 55}], amount=165)
    listing = client.get("/api/v1/admin/products", headers=counter.admin).get_json()
    assert listing["products"] == []
    unknown = {u["sku"]: u for u in listing["unknown_skus"]}
    assert [u["sku"] for u in listing["unknown_skus"]] == ["CRS01", "LATTE"]  # the most seen first
    assert (unknown["CRS01"]["lines"], unknown["CRS01"]["units"], unknown["CRS01"]["last_name"]) == (2, 4, "可頌(奶油)")
    assert unknown["LATTE"]["last_name"] == "拿鐵(熱)"

    mapped = client.put("/api/v1/admin/products/CRS01", json={"name": "奶油可頌", "category": "烘焙", "price": 55}, headers=counter.admin)
    assert mapped.status_code == 201, mapped.get_json()
    assert mapped.get_json()["items_linked"] == 2 and mapped.get_json()["created"] is True
    with db.sessions() as s:
        product_id = s.scalar(select(Product.id).where(Product.sku == "CRS01"))
        rows = s.execute(select(AwardItem.product_id, AwardItem.category).where(AwardItem.sku == "CRS01")).all()
    assert rows == [(product_id, "烘焙"), (product_id, "烘焙")]
    after = client.get("/api/v1/admin/products", headers=counter.admin).get_json()
    assert [u["sku"] for u in after["unknown_skus"]] == ["LATTE"]
    assert [p["sku"] for p in after["products"]] == ["CRS01"] and after["products"][0]["price"] == "55"
    # a change of the product later does not rewrite what past lines were awarded as
    changed = client.put("/api/v1/admin/products/CRS01", json={"name": "奶油可頌", "category": "新品"}, headers=counter.admin)
    assert changed.status_code == 200 and changed.get_json()["items_linked"] == 0 and changed.get_json()["price"] == "55"
    award(client, counter, number, "R-3", [{**CROISSANT, "qty": 1}], amount=55)
    assert [i.category for i in stored(db, "R-3")] == ["新品"]
    assert [i.category for i in stored(db, "R-1")] == [None, "烘焙"]


def test_bulk_upsert_validates_every_row_and_is_all_or_nothing(client, counter, db):
    good = {"sku": "LATTE", "name": "拿鐵", "category": "咖啡", "price": "65"}
    bad = put_products(client, counter, [good, {"sku": "MOCHA", "name": "摩卡", "price": "abc"}])
    assert bad.status_code == 422
    assert bad.get_json()["code"] == "invalid_product"
    assert bad.get_json()["details"] == {"row": 1, "field": "price", "sku": "MOCHA"}
    twice = put_products(client, counter, [good, good])
    assert twice.status_code == 422 and twice.get_json()["details"]["row"] == 1 and twice.get_json()["details"]["field"] == "sku"
    nameless = put_products(client, counter, {"products": [{"sku": "X"}]})
    assert nameless.status_code == 422 and nameless.get_json()["details"] == {"row": 0, "field": "name", "sku": "X"}
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Product)) == 0
    done = put_products(client, counter, [good, {"sku": "MOCHA", "name": "摩卡"}])
    assert done.get_json() == {"created": ["LATTE", "MOCHA"], "updated": [], "items_linked": 0}
    again = put_products(client, counter, [{"sku": "MOCHA", "name": "摩卡", "active": False}])
    assert again.get_json()["updated"] == ["MOCHA"]
    listing = client.get("/api/v1/admin/products", headers=counter.admin).get_json()["products"]
    assert [(p["sku"], p["active"], p["category"]) for p in listing] == [("LATTE", True, "咖啡"), ("MOCHA", False, None)]
    assert [p["sku"] for p in client.get("/api/v1/admin/products?active=true", headers=counter.admin).get_json()["products"]] == ["LATTE"]
    assert client.get("/api/v1/admin/products/NOPE", headers=counter.admin).get_json()["code"] == "product_not_found"


def test_a_marketer_maps_products_an_analyst_only_reads(client, counter, app):
    from models.admin import create_token

    with app.extensions["loyalty"].db.transaction() as s:
        _, marketer = create_token(s, name="m", scopes=["members:read", "campaigns:manage"], now=app.extensions["loyalty"].now())
        _, analyst = create_token(s, name="a", scopes=["members:read"], now=app.extensions["loyalty"].now())
    row = [{"sku": "LATTE", "name": "拿鐵"}]
    assert client.put("/api/v1/admin/products", json=row, headers={"Authorization": f"Bearer {marketer}"}).status_code == 200
    refused = client.put("/api/v1/admin/products", json=row, headers={"Authorization": f"Bearer {analyst}"})
    assert refused.status_code == 403 and refused.get_json()["code"] == "missing_scope"
    assert client.get("/api/v1/admin/products", headers={"Authorization": f"Bearer {analyst}"}).status_code == 200


def test_claim_codes_keep_their_items_until_the_member_collects(client, counter, line, make_member, db):
    made = client.post("/api/v1/claims", json={"receipt_id": "C-1", "amount": 185, "items": [LATTE, CROISSANT]}, headers=counter.cashier)
    assert made.status_code == 201, made.get_json()
    assert [i["sku"] for i in made.get_json()["items"]] == ["LATTE", "CRS01"]
    again = client.post("/api/v1/claims", json={"receipt_id": "C-1", "amount": 185, "items": [CROISSANT, LATTE]}, headers=counter.cashier)
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    other = client.post("/api/v1/claims", json={"receipt_id": "C-1", "amount": 185, "items": [{**LATTE, "qty": 1}, {**CROISSANT, "qty": 1, "unit_price": 120}]},
                        headers=counter.cashier)
    assert other.status_code == 409 and other.get_json()["code"] == "receipt_already_has_claim"
    mismatch = client.post("/api/v1/claims", json={"receipt_id": "C-2", "amount": 100, "items": [LATTE]}, headers=counter.cashier)
    assert mismatch.status_code == 422 and mismatch.get_json()["details"]["difference"] == "30.00"
    user, number = make_member()
    line.say(user, f"領取 {made.get_json()['code']}")
    assert "收據集點完成" in all_text(line.last(user))
    items = stored(db, "C-1")
    assert [(i.sku, i.qty, i.name) for i in items] == [("LATTE", 2, "拿鐵(熱)"), ("CRS01", 1, "可頌")]
    with db.sessions() as s:
        award_row = s.scalars(select(Award).where(Award.receipt_id == "C-1")).one()
    assert items[0].member_id == award_row.member_id and award_row.actor_kind == "member"


def test_the_counter_awarding_a_claimed_receipt_must_send_its_items(client, counter, make_member, db):
    client.post("/api/v1/claims", json={"receipt_id": "C-1", "amount": 185, "items": [LATTE, CROISSANT]}, headers=counter.cashier)
    _, number = make_member()
    other = award(client, counter, number, "C-1", [LATTE, {**CROISSANT, "unit_price": 54}], amount=184)
    assert other.status_code == 409 and other.get_json()["code"] == "receipt_already_has_claim"
    same = award(client, counter, number, "C-1", [LATTE, CROISSANT])
    assert same.status_code == 201 and len(stored(db, "C-1")) == 2


def test_the_points_history_says_what_was_bought(client, counter, line, make_member):
    put_products(client, counter, [{"sku": "LATTE", "name": "拿鐵"}])
    user, number = make_member()
    award(client, counter, number, "R-1", [LATTE, CROISSANT])
    many = [{"sku": f"S{i}", "name": f"品項{i}", "qty": 1, "unit_price": 10} for i in range(5)]
    award(client, counter, number, "R-2", many, amount=50)
    line.say(user, "集點卡")
    text = all_text(line.last(user))
    assert "消費集點：拿鐵 ×2、可頌 ×1" in text  # the catalogue's name, else the POS's
    assert "消費集點：品項0 ×1、品項1 ×1、品項2 ×1 等 5 項" in text


def test_csv_import_reads_utf8_with_bom_and_big5(app, client, counter, make_member, tmp_path, db):
    _, number = make_member()
    award(client, counter, number, "R-1", [LATTE, CROISSANT])
    runner = app.test_cli_runner()
    utf8 = tmp_path / "products.csv"
    utf8.write_bytes("sku,name,category,price\r\nLATTE,拿鐵,咖啡,65\r\n\r\nMOCHA,摩卡,咖啡,\r\n".encode("utf-8-sig"))
    result = runner.invoke(args=["loyalty", "import-products", str(utf8)])
    assert result.exit_code == 0, result.output
    assert "created 2, updated 0 products; 1 past receipt lines linked" in result.output
    big5 = tmp_path / "big5.csv"
    big5.write_bytes("sku,name,category,price\nCRS01,可頌,烘焙,55\nLATTE,熱拿鐵,咖啡,70\n".encode("cp950"))
    assert runner.invoke(args=["loyalty", "import-products", str(big5)]).exit_code == 0
    with db.sessions() as s:
        got = {p.sku: (p.name, p.category, p.price) for p in s.scalars(select(Product))}
        linked = s.scalar(select(func.count()).select_from(AwardItem).where(AwardItem.product_id.is_not(None)))
    assert got == {"LATTE": ("熱拿鐵", "咖啡", Decimal("70.00")), "MOCHA": ("摩卡", "咖啡", None), "CRS01": ("可頌", "烘焙", Decimal("55.00"))}
    assert linked == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,name,price\nA,甲,10\nB,乙,十元\n", encoding="utf-8")
    refused = runner.invoke(args=["loyalty", "import-products", str(bad)])
    assert refused.exit_code != 0 and "row 3: price" in refused.output and "nothing was imported" in refused.output
    dry = tmp_path / "dry.csv"
    dry.write_text("sku,name\nNEW,新品\n", encoding="utf-8")
    assert "would create 1" in runner.invoke(args=["loyalty", "import-products", str(dry), "--dry-run"]).output
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Product).where(Product.sku.in_(["A", "NEW"]))) == 0


def test_items_do_not_change_what_an_award_without_bonuses_earns(client, counter, make_member, db):
    _, number = make_member()
    with_items = award(client, counter, number, "R-1", [LATTE, CROISSANT]).get_json()["award"]
    without = client.post("/api/v1/awards", json={"member_no": number, "receipt_id": "R-2", "amount": 185}, headers=counter.cashier).get_json()["award"]
    assert (with_items["points"], with_items["stamps"]) == (without["points"], without["stamps"]) == (18, 0)
    with db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.reason == "bonus")) == 0


def test_a_premembers_items_move_to_the_member_who_takes_it_over_and_are_in_the_data_export(client, counter, line, db):
    from tests.test_phone_premembers import OTHER, join_until_phone, premember

    made = premember(client, counter).get_json()
    assert award(client, counter, made["member"]["member_no"], "P1", [LATTE, CROISSANT]).status_code == 201
    user = line.user("小華")
    join_until_phone(line, user, OTHER)
    line.say(user, f"認領碼 {made['claim_code']}")
    line.tap(user, "action=join_step&v=female")
    assert "已將門市的集點紀錄轉入" in all_text(line.replies(user))
    with db.sessions() as s:
        from models.member import Member

        member = s.scalars(select(Member).where(Member.line_user_id == user)).one()
        owners = set(s.scalars(select(AwardItem.member_id)))
    assert owners == {member.id}  # with its award, not left on the pre-member's row
    export = client.get(f"/api/v1/admin/members/{member.member_no}/export", headers=counter.admin).get_json()
    assert [(p["sku"], p["qty"], p["line_total"], p["store"]) for p in export["purchases"]] == [
        ("LATTE", 2, "130.00", "台北信義店"), ("CRS01", 1, "55.00", "台北信義店")]
