"""The console's members list: joined members matching a search and a segment rule, each with their
balances, tier and last visit, sorted by any of those. The same rows page the list and fill its CSV.

Balances are the ledger's sums and the last visit the newest award with a visit, read in the same
query (not the nightly stats), so a purchase a minute ago already shows and sorts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from models.errors import InvalidInput
from models.ledger import Award, LedgerEntry
from models.member import Member
from models.segment_rules import members_query
from models.tier import Tier, all_tiers

# sort keys; "-key" sorts descending. Ties: the newest member first.
SORTS = ("joined_at", "name", "points", "stamps", "tier", "last_visit_at")
DEFAULT_SORT = "-joined_at"


@dataclass(frozen=True)
class MemberListRow:
    member: Member
    points: int
    stamps: int
    tier: Tier | None
    last_visit_at: datetime | None


def sort_keys() -> list[str]:
    return [k for key in SORTS for k in (key, f"-{key}")]


def member_list(session: Session, *, q: str = "", rule: Any = None, sort: str = DEFAULT_SORT, now: datetime) -> Select[Any]:
    """The rows' query (Member, points, stamps, last_visit_at); ``rows`` turns results into MemberListRow."""
    if sort not in sort_keys():
        raise InvalidInput(f"sort is one of {', '.join(sort_keys())}", code="invalid_sort", details={"field": "sort", "allowed": sort_keys()})
    sums = (select(LedgerEntry.member_id.label("member_id"),
                   func.sum(case((LedgerEntry.currency == "point", LedgerEntry.amount), else_=0)).label("points"),
                   func.sum(case((LedgerEntry.currency == "stamp", LedgerEntry.amount), else_=0)).label("stamps"))
            .group_by(LedgerEntry.member_id).subquery())
    visits = select(Award.member_id.label("member_id"), func.max(Award.created_at).label("last_visit_at")).where(Award.visit.is_(True)) \
        .group_by(Award.member_id).subquery()
    points, stamps = func.coalesce(sums.c.points, 0), func.coalesce(sums.c.stamps, 0)
    lowest = session.scalar(select(func.min(Tier.rank)))
    query = (members_query(session, rule, now).add_columns(points.label("points"), stamps.label("stamps"), visits.c.last_visit_at)
             .outerjoin(sums, sums.c.member_id == Member.id).outerjoin(visits, visits.c.member_id == Member.id)
             .outerjoin(Tier, Tier.id == Member.tier_id))
    q = q.strip()
    if q:
        like = f"%{q}%"
        query = query.where(or_(Member.display_name.ilike(like), Member.member_no == q, Member.phone.like(like)))
    column = {"joined_at": Member.joined_at, "name": Member.display_name, "points": points, "stamps": stamps,
              "tier": func.coalesce(Tier.rank, lowest if lowest is not None else 0),  # no tier yet: the entry tier
              "last_visit_at": visits.c.last_visit_at}[sort.lstrip("-")]
    order = column.desc().nulls_last() if sort.startswith("-") else column.asc().nulls_last()
    return query.order_by(order, Member.id.desc())


def rows(session: Session, results: Iterable[Any]) -> list[MemberListRow]:
    tiers = all_tiers(session)
    by_id = {t.id: t for t in tiers}
    return [MemberListRow(member=m, points=int(p), stamps=int(s), tier=by_id.get(m.tier_id) if m.tier_id else (tiers[0] if tiers else None),
                          last_visit_at=at) for m, p, s, at in results]
