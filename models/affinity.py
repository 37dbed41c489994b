"""What members buy: each member's categories and products (recency, frequency), and the brand's
"members who buy X also buy Y" (item-to-item co-occurrence over members).

Only the line items of awards that stand count: an award voided at the till keeps its rows (a void
never edits; models/shift.py writes compensating ledger entries with reason ``void`` and the
award's id), so every query here leaves out items whose award has such an entry (``counted``).

Co-occurrence, for items X and Y (SKUs, or categories) over the members who bought anything in
the window (the last ``window_days``, default 365):

    members_x     members who bought X            support(X→Y)    = members_both / members_total
    members_both  members who bought X and Y      confidence(X→Y) = members_both / members_x  = P(Y | X)
    members_total members who bought anything     lift(X→Y)       = confidence / (members_y / members_total)

A pair counts once per member who bought both, however often. It is one SQL statement per level
(SQLite and PostgreSQL): the distinct (member, item) pairs, the items numbered, a self-join on the
member with the smaller number first (each unordered pair once, half the rows), grouped by pair
and then turned both ways; per X the ``top_n`` Ys with the most members in common (the highest
confidence; ties: the higher lift, then the code) are kept, pairs fewer than ``min_members``
members bought together are dropped (one shopper's basket proves nothing).
``rebuild_affinity`` replaces the whole table in the caller's transaction; readers see the old
rows until it commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Double, Index, Integer, String, UniqueConstraint, and_, cast, delete, exists, func, insert, literal, select, text,
    true, union_all,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp
from models.ledger import LedgerEntry
from models.product import MAX_SKU, AwardItem, Product

LEVELS = ("sku", "category")
WINDOW_DAYS = 365  # AFFINITY_WINDOW_DAYS
TOP_N = 20  # Ys kept per X
MIN_MEMBERS = 2  # a pair fewer members bought together is not kept
MEMBER_LIMIT = 50  # rows per list on a member's page
WORK_MEM = "128MB"  # PostgreSQL, for the rebuild's transaction

# "bought in this category (lately)": purchase rules (models/segment_purchase.py) find a category's
# buyers, or check one member, from this index rather than from every line item
Index("ix_award_item_category_member", AwardItem.category, AwardItem.member_id, AwardItem.awarded_at)


class ProductAffinity(Base):
    """One "members who bought x also bought y" row; ``rank`` 1 is the strongest y for x."""

    __tablename__ = "product_affinity"
    __table_args__ = (UniqueConstraint("level", "x", "y", name="uq_product_affinity_level_x_y"),)

    id: Mapped[IntPK]
    level: Mapped[str] = mapped_column(String(8))  # sku | category
    x: Mapped[str] = mapped_column(String(MAX_SKU))
    y: Mapped[str] = mapped_column(String(MAX_SKU))
    rank: Mapped[int] = mapped_column(Integer)
    members_both: Mapped[int] = mapped_column(Integer)
    members_x: Mapped[int] = mapped_column(Integer)
    members_y: Mapped[int] = mapped_column(Integer)
    members_total: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Double)
    lift: Mapped[float] = mapped_column(Double)
    window_days: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[Timestamp]

    def json(self) -> dict[str, Any]:
        return {"members_both": self.members_both, "members_x": self.members_x, "members_y": self.members_y,
                "support": round(self.members_both / self.members_total, 6) if self.members_total else 0.0,
                "confidence": round(self.confidence, 6), "lift": round(self.lift, 6)}


def counted():
    """The condition on AwardItem rows that count: their award was not voided."""
    return ~exists().where(LedgerEntry.award_id == AwardItem.award_id, LedgerEntry.reason == "void")


# --- one member ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bought:
    """A category or a product in one member's purchases."""

    key: str  # the category, or the SKU
    name: str | None  # the product's name (the catalogue's, else the POS's); None for a category
    category: str | None
    receipts: int  # frequency: receipts (awards) with it
    qty: int
    spend: Decimal
    first_at: datetime
    last_at: datetime  # recency

    def json(self, now: datetime) -> dict[str, Any]:
        return {"receipts": self.receipts, "qty": self.qty, "spend": f"{self.spend:.2f}", "first_at": self.first_at.isoformat(),
                "last_at": self.last_at.isoformat(), "days_since_last": max(0, (now - self.last_at).days)}


def _bought(session: Session, member_id: int, key, extra, now: datetime, window_days: int | None, limit: int):
    conditions = [AwardItem.member_id == member_id, AwardItem.awarded_at <= now, key.is_not(None), counted()]
    if window_days is not None:
        conditions.append(AwardItem.awarded_at > now - timedelta(days=window_days))
    receipts = func.count(func.distinct(AwardItem.award_id))
    last = func.max(AwardItem.awarded_at)
    query = (select(key, *extra, receipts, func.sum(AwardItem.qty), func.sum(AwardItem.line_total), func.min(AwardItem.awarded_at), last)
             .select_from(AwardItem).where(*conditions).group_by(key).order_by(receipts.desc(), last.desc(), key).limit(limit))
    return session.execute(query).all()


def categories_bought(session: Session, member_id: int, *, now: datetime, window_days: int | None = None,
                      limit: int = MEMBER_LIMIT) -> list[Bought]:
    """The member's categories, most receipts first (then the most recent). Items of SKUs the
    catalogue did not know have no category and are left out here (they are in products_bought)."""
    rows = _bought(session, member_id, AwardItem.category, (), now, window_days, limit)
    return [Bought(c, None, c, int(r), int(q or 0), Decimal(s or 0), f, last) for c, r, q, s, f, last in rows]


def products_bought(session: Session, member_id: int, *, now: datetime, window_days: int | None = None,
                    limit: int = MEMBER_LIMIT) -> list[Bought]:
    """The member's products (by SKU, known to the catalogue or not), most receipts first."""
    name = func.max(func.coalesce(select(Product.name).where(Product.id == AwardItem.product_id).scalar_subquery(), AwardItem.name))
    rows = _bought(session, member_id, AwardItem.sku, (name, func.max(AwardItem.category)), now, window_days, limit)
    return [Bought(sku, n, c, int(r), int(q or 0), Decimal(s or 0), f, last) for sku, n, c, r, q, s, f, last in rows]


def member_affinity(session: Session, member_id: int, *, now: datetime, window_days: int | None = None,
                    limit: int = MEMBER_LIMIT) -> dict[str, Any]:
    """Both lists as JSON-ready data (the console's member page; later, personal offers)."""
    return {
        "window_days": window_days,
        "categories": [{"category": b.key, **b.json(now)}
                       for b in categories_bought(session, member_id, now=now, window_days=window_days, limit=limit)],
        "products": [{"sku": b.key, "name": b.name, "category": b.category, **b.json(now)}
                     for b in products_bought(session, member_id, now=now, window_days=window_days, limit=limit)],
    }


# --- the brand: members who buy X also buy Y ---------------------------------------------------

def co_occurrence(level: str, *, now: datetime, window_days: int, top_n: int, min_members: int):
    """The SELECT of product_affinity's rows for one level (see the module's docstring)."""
    key = AwardItem.sku if level == "sku" else AwardItem.category
    bought = (select(AwardItem.member_id.label("member_id"), key.label("item")).distinct()
              .where(AwardItem.awarded_at > now - timedelta(days=window_days), AwardItem.awarded_at <= now, key.is_not(None), counted())
              .cte("bought"))
    items = (select(bought.c.item, func.count().label("members"), func.row_number().over(order_by=bought.c.item).label("no"))
             .group_by(bought.c.item).cte("items"))
    coded = select(bought.c.member_id, items.c.no).join_from(bought, items, items.c.item == bought.c.item).cte("coded")
    a, b = coded.alias("a"), coded.alias("b")
    both = func.count()
    pair = (select(a.c.no.label("x"), b.c.no.label("y"), both.label("together"))
            .join_from(a, b, and_(b.c.member_id == a.c.member_id, b.c.no > a.c.no))
            .group_by(a.c.no, b.c.no).having(both >= min_members).cte("pair"))
    directed = union_all(select(pair.c.x, pair.c.y, pair.c.together), select(pair.c.y, pair.c.x, pair.c.together)).cte("directed")
    total = select(func.count(func.distinct(bought.c.member_id)).label("n")).cte("total")
    ix, iy = items.alias("ix"), items.alias("iy")
    ranked = (select(ix.c.item.label("x"), iy.c.item.label("y"), directed.c.together, ix.c.members.label("mx"), iy.c.members.label("my"),
                     func.row_number().over(partition_by=directed.c.x, order_by=(directed.c.together.desc(), iy.c.members, iy.c.item)).label("rank"))
              .join_from(directed, ix, ix.c.no == directed.c.x).join(iy, iy.c.no == directed.c.y).subquery("ranked"))
    inner = select(ranked, total.c.n).join_from(ranked, total, true()).subquery("scored")
    return (select(literal(level).label("level"), inner.c.x, inner.c.y, inner.c.rank, inner.c.together, inner.c.mx, inner.c.my, inner.c.n,
                   (cast(inner.c.together, Double) / inner.c.mx).label("confidence"),
                   (cast(inner.c.together, Double) * inner.c.n / (cast(inner.c.mx, Double) * inner.c.my)).label("lift"),
                   literal(window_days).label("window_days"), literal(now, type_=ProductAffinity.computed_at.type).label("computed_at"))
            .where(inner.c.rank <= top_n))


COLUMNS = ("level", "x", "y", "rank", "members_both", "members_x", "members_y", "members_total", "confidence", "lift", "window_days", "computed_at")


def rebuild_affinity(session: Session, *, now: datetime, window_days: int = WINDOW_DAYS, top_n: int = TOP_N,
                     min_members: int = MIN_MEMBERS) -> dict[str, int]:
    """Replace every product_affinity row with a fresh computation (rows kept, per level)."""
    if session.get_bind().dialect.name == "postgresql":  # a second rebuild waits for this one, then replaces its rows
        session.execute(text("LOCK TABLE product_affinity IN SHARE ROW EXCLUSIVE MODE"))
        # the pairs' sort and hash fit in memory (the 4 MB default spills them to disk); this transaction only
        session.execute(text("SELECT set_config('work_mem', :wm, true)"), {"wm": WORK_MEM})
    session.execute(delete(ProductAffinity))
    for level in LEVELS:
        query = co_occurrence(level, now=now, window_days=window_days, top_n=top_n, min_members=min_members)
        session.execute(insert(ProductAffinity).from_select(list(COLUMNS), query))
    session.flush()
    kept = dict(session.execute(select(ProductAffinity.level, func.count()).group_by(ProductAffinity.level)).all())
    return {level: int(kept.get(level, 0)) for level in LEVELS}


def also_bought(session: Session, x: str, *, level: str = "sku", limit: int = TOP_N) -> list[ProductAffinity]:
    """The stored Ys for X, strongest first (empty until the job has run, or for an X nobody bought with others)."""
    return list(session.scalars(select(ProductAffinity).where(ProductAffinity.level == level, ProductAffinity.x == x)
                                .order_by(ProductAffinity.rank).limit(limit)))


def category_of(session: Session, sku: str) -> str | None:
    """The SKU's category: the catalogue's, else the one its latest line item carried."""
    known = session.scalar(select(Product.category).where(Product.sku == sku))
    if known is not None:
        return known
    return session.scalar(select(AwardItem.category).where(AwardItem.sku == sku, AwardItem.category.is_not(None))
                          .order_by(AwardItem.awarded_at.desc(), AwardItem.id.desc()).limit(1))
