"""Purchases with line items for tests, written through the domain: the award by models.ledger.award,
then its AwardItem rows as the award API will store them (product matched by SKU, its category
copied, member and time from the award). Until /api/v1/awards takes ``items`` this is the way in;
then these helpers can post to it instead."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.ledger import Award, award
from models.member import complete_join, ensure_member
from models.product import AwardItem, Product
from models.rule import get_rule
from models.store import Actor, Store, create_store

Line = tuple[str, int, str]  # (sku, qty, unit price "120.00")


def add_products(session: Session, catalogue: dict[str, tuple[str, str | None]], *, now: datetime) -> dict[str, Product]:
    """{sku: (name, category)} as catalogue rows."""
    made = {}
    for sku, (name, category) in catalogue.items():
        made[sku] = Product(sku=sku, name=name, category=category, price=None, active=True, created_at=now, updated_at=now)
        session.add(made[sku])
    session.flush()
    return made


def add_items(session: Session, record: Award, lines: list[Line], *, names: dict[str, str] | None = None) -> list[AwardItem]:
    """The award's line items, numbered 1, 2, … (a SKU the catalogue lacks: product and category null)."""
    rows = []
    for no, (sku, qty, price) in enumerate(lines, start=1):
        product = session.scalar(select(Product).where(Product.sku == sku))
        unit = Decimal(price)
        rows.append(AwardItem(award_id=record.id, line_no=no, member_id=record.member_id, store_id=record.store_id, sku=sku,
                              product_id=product.id if product else None, name=(names or {}).get(sku) or (product.name if product else None),
                              category=product.category if product else None, qty=qty, unit_price=unit, line_total=unit * qty,
                              awarded_at=record.created_at))
    session.add_all(rows)
    session.flush()
    return rows


@dataclass
class Shop:
    """A store, its system actor and a receipt counter: ``buy`` makes one award with its items."""

    session: Session
    store: Store
    now: datetime
    receipts: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, session: Session, now: datetime, code: str = "BUY") -> Shop:
        return cls(session, create_store(session, code=code, name="購物店", now=now), now)

    @property
    def actor(self) -> Actor:
        return Actor(store_id=self.store.id, kind="system")

    def member(self, n: int, *, days_ago: int = 400):  # type: ignore[no-untyped-def]
        m = ensure_member(self.session, f"U{n:032x}", now=self.now - timedelta(days=days_ago))
        complete_join(self.session, m, now=self.now - timedelta(days=days_ago), birthday_on=date(1990, 1, 1), terms_version="t",
                      consented_at=self.now, phone=f"09{n:08d}", gender="female")
        return m

    def buy(self, member_id: int, lines: list[Line], *, days_ago: float = 1, names: dict[str, str] | None = None) -> Award:
        receipt = f"R{len(self.receipts) + 1:05d}"
        self.receipts.append(receipt)
        amount = sum((Decimal(p) * q for _, q, p in lines), Decimal(0))
        done = award(self.session, member_id=member_id, receipt_id=receipt, amount=amount, visit=True, actor=self.actor,
                     rule=get_rule(self.session), now=self.now - timedelta(days=days_ago))
        record = self.session.get(Award, done.award_id)
        assert record is not None
        add_items(self.session, record, lines, names=names)
        return record
