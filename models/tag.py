"""Tags: manual labels a marketer puts on members, and rule tags kept up to date by a job."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp, insert_for
from models.errors import InvalidInput, NotFound
from models.member import Member


class Tag(Base):
    __tablename__ = "tag"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # manual | rule
    rule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[Timestamp]
    refreshed_at: Mapped[Timestamp | None]


class MemberTag(Base):
    __tablename__ = "member_tag"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id"), primary_key=True, index=True)
    added_at: Mapped[Timestamp]



def get_or_create(session: Session, name: str, *, now: datetime, kind: str = "manual", rule: dict[str, Any] | None = None) -> Tag:
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise InvalidInput("A tag name is 1 to 60 characters", code="invalid_tag", details={"field": "tag"})
    session.execute(insert_for(session)(Tag).values(name=name, kind=kind, rule=rule, created_at=now).on_conflict_do_nothing(index_elements=["name"]))
    tag = session.scalars(select(Tag).where(Tag.name == name)).one()
    return tag


def add_tag(session: Session, member_id: int, name: str, *, now: datetime) -> Tag:
    tag = get_or_create(session, name, now=now)
    if tag.kind != "manual":
        raise InvalidInput("Rule tags are kept by their rule, not by hand", code="rule_tag")
    session.execute(insert_for(session)(MemberTag).values(member_id=member_id, tag_id=tag.id, added_at=now).on_conflict_do_nothing())
    return tag


def remove_tag(session: Session, member_id: int, name: str) -> None:
    tag = session.scalars(select(Tag).where(Tag.name == name)).one_or_none()
    if tag is None:
        raise NotFound("No such tag", code="tag_not_found")
    if tag.kind != "manual":
        raise InvalidInput("Rule tags are kept by their rule, not by hand", code="rule_tag")
    session.execute(delete(MemberTag).where(MemberTag.member_id == member_id, MemberTag.tag_id == tag.id))


def tags_of(session: Session, member_id: int) -> list[str]:
    return list(session.scalars(select(Tag.name).join(MemberTag, MemberTag.tag_id == Tag.id).where(MemberTag.member_id == member_id).order_by(Tag.name)))


def list_tags(session: Session) -> list[Tag]:
    return list(session.scalars(select(Tag).order_by(Tag.name)))


def create_rule_tag(session: Session, name: str, rule: dict[str, Any], *, now: datetime) -> Tag:
    from models.segment_rules import compile_rule

    compile_rule(session, rule, now)  # validate before saving
    existing = session.scalars(select(Tag).where(Tag.name == name)).one_or_none()
    if existing is not None:
        raise InvalidInput("A tag with this name exists", code="tag_exists", details={"field": "name"})
    tag = get_or_create(session, name, now=now, kind="rule", rule=rule)
    refresh_rule_tag(session, tag, now=now)
    return tag


def refresh_rule_tag(session: Session, tag: Tag, *, now: datetime) -> int:
    """Recompute who carries a rule tag, in SQL: delete, then insert from the rule's query."""
    from sqlalchemy import func, insert, literal

    from models.segment_rules import members_query

    session.execute(delete(MemberTag).where(MemberTag.tag_id == tag.id))
    ids = members_query(session, tag.rule, now).with_only_columns(Member.id, literal(tag.id), literal(now, type_=MemberTag.added_at.type))
    session.execute(insert(MemberTag).from_select(["member_id", "tag_id", "added_at"], ids))
    tag.refreshed_at = now
    session.flush()
    return int(session.scalar(select(func.count()).select_from(MemberTag).where(MemberTag.tag_id == tag.id)) or 0)


def refresh_rule_tags(session: Session, *, now: datetime) -> dict[str, int]:
    return {tag.name: refresh_rule_tag(session, tag, now=now) for tag in session.scalars(select(Tag).where(Tag.kind == "rule"))}
