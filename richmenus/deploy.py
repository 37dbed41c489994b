"""Put the rich menus on LINE, replacing the ones the previous deploy made; safe to run again.

    1. check every definition locally, then with LINE's validate endpoint (nothing is created
       unless all pass)
    2. create each menu and upload its image to the data host (on a failure, delete what
       this run created)
    3. record the new ids (the previous deploy's become "retired") and point the tiers at
       their menus, in one transaction
    4. make ``guest`` the default menu; create or update an alias per menu (its name)
    5. link every joined, reachable member to their menu (member menu or tier variant),
       at most 500 users per bulk call
    6. delete the retired menus (only those a deploy recorded; a failed deletion is retried
       by the next run)

Members are relinked before the old menus go, so nobody falls back to the guest menu meanwhile.
LINE is never called while a transaction is open.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from linebot.v3.messaging import (
    ApiException,
    CreateRichMenuAliasRequest,
    RichMenuBulkLinkRequest,
    RichMenuRequest,
    UpdateRichMenuAliasRequest,
)

from bot.db import Database
from bot.line.gateway import LineGateway
from models.richmenu import GUEST_MENU, Deployed, assign_tier_menus, mark_deleted, members_to_link, menus_to_delete, record_deployment
from richmenus.menus import ROOT, MenuError, MenuSource, load_menus
from richmenus.render import MenuImage, image_for

BULK_LIMIT = 500  # LINE's maximum userIds per bulk link request


class DeployError(Exception):
    """A deploy step LINE refused; the message names the step and LINE's answer."""


@dataclass
class Report:
    created: dict[str, str] = field(default_factory=dict)  # name -> rich menu id
    default: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> created | updated
    tiers: dict[str, str | None] = field(default_factory=dict)
    linked: dict[str, int] = field(default_factory=dict)  # name -> members
    link_calls: int = 0
    deleted: list[str] = field(default_factory=list)
    not_deleted: list[str] = field(default_factory=list)


def _line_error(step: str, exc: ApiException) -> DeployError:
    body = exc.body.decode() if isinstance(exc.body, bytes) else (exc.body or exc.reason or "")
    return DeployError(f"{step}: LINE answered {exc.status}: {body}")


def chunks(items: list[str], size: int = BULK_LIMIT) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def prepare(root: Path = ROOT, *, force_render: bool = False) -> list[tuple[MenuSource, MenuImage]]:
    """The menus and their images (drawn when missing or stale); MenuError when one is not fit."""
    return [(menu, image_for(menu, root, force=force_render)) for menu in load_menus(root)]


def deploy(line: LineGateway, db: Database, *, now: Callable[[], datetime], root: Path = ROOT,
           echo: Callable[[str], None] = print, menus: list[tuple[MenuSource, MenuImage]] | None = None) -> Report:
    menus = menus if menus is not None else prepare(root)
    report = Report()
    for menu, _ in menus:
        try:
            line.api.validate_rich_menu_object(RichMenuRequest.from_dict(menu.definition))
        except ApiException as exc:
            raise _line_error(f"validate {menu.name}", exc) from exc
    echo(f"validated {len(menus)} menus: {', '.join(m.name for m, _ in menus)}")

    _create(line, menus, report, echo)
    with db.transaction() as session:
        record_deployment(session, [Deployed(m.name, report.created[m.name], m.alias) for m, _ in menus], now=now())
        report.tiers = assign_tier_menus(session)
    for code, menu_id in report.tiers.items():
        echo(f"tier {code}: rich menu {menu_id or '(none: members use the member menu)'}")

    try:
        line.api.set_default_rich_menu(report.created[GUEST_MENU])
        report.default = report.created[GUEST_MENU]
        echo(f"default menu: {GUEST_MENU} ({report.default})")
        _aliases(line, menus, report, echo)
    except ApiException as exc:
        raise _line_error("default menu and aliases (run deploy again)", exc) from exc

    _link_members(line, db, report, echo)
    _delete_retired(line, db, now, report, echo)
    return report


def _create(line: LineGateway, menus: list[tuple[MenuSource, MenuImage]], report: Report, echo: Callable[[str], None]) -> None:
    try:
        for menu, image in menus:
            menu_id = line.api.create_rich_menu(RichMenuRequest.from_dict(menu.definition)).rich_menu_id
            report.created[menu.name] = menu_id
            line.blob.set_rich_menu_image(menu_id, body=image.data, _headers={"Content-Type": image.content_type})
            echo(f"created {menu.name}: {menu_id} (image {image.describe()})")
    except ApiException as exc:
        for menu_id in report.created.values():  # nothing half-made is left behind
            try:
                line.api.delete_rich_menu(menu_id)
            except ApiException:
                echo(f"could not delete {menu_id}; delete it by hand")
        raise _line_error(f"create {len(report.created)}/{len(menus)}", exc) from exc


def _aliases(line: LineGateway, menus: list[tuple[MenuSource, MenuImage]], report: Report, echo: Callable[[str], None]) -> None:
    existing = {a.rich_menu_alias_id for a in line.api.get_rich_menu_alias_list().aliases or []}
    for menu, _ in menus:
        menu_id = report.created[menu.name]
        if menu.alias in existing:
            line.api.update_rich_menu_alias(menu.alias, UpdateRichMenuAliasRequest(rich_menu_id=menu_id))
            report.aliases[menu.alias] = "updated"
        else:
            line.api.create_rich_menu_alias(CreateRichMenuAliasRequest(rich_menu_alias_id=menu.alias, rich_menu_id=menu_id))
            report.aliases[menu.alias] = "created"
    echo("aliases: " + ", ".join(f"{a} ({how})" for a, how in report.aliases.items()))


def _link_members(line: LineGateway, db: Database, report: Report, echo: Callable[[str], None]) -> None:
    with db.sessions() as session:
        links = members_to_link(session)
    names = {menu_id: name for name, menu_id in report.created.items()}
    for menu_id, users in links.items():
        for batch in chunks(users):
            try:
                line.api.link_rich_menu_id_to_users(RichMenuBulkLinkRequest(rich_menu_id=menu_id, user_ids=batch))
            except ApiException as exc:
                raise _line_error(f"link members to {names.get(menu_id, menu_id)} (run deploy again)", exc) from exc
            report.link_calls += 1
        report.linked[names.get(menu_id, menu_id)] = len(users)
    total = sum(report.linked.values())
    detail = ", ".join(f"{n} to {name}" for name, n in report.linked.items())
    echo(f"linked {total} members in {report.link_calls} bulk calls" + (f": {detail}" if detail else ""))


def _delete_retired(line: LineGateway, db: Database, now: Callable[[], datetime], report: Report,
                    echo: Callable[[str], None]) -> None:
    with db.sessions() as session:
        stale = menus_to_delete(session)
    for menu_id in stale:
        try:
            line.api.delete_rich_menu(menu_id)
        except ApiException as exc:
            if exc.status != 404:  # gone already counts as deleted
                report.not_deleted.append(menu_id)
                echo(f"could not delete {menu_id} ({exc.status}); the next deploy tries again")
                continue
        report.deleted.append(menu_id)
    if report.deleted:
        with db.transaction() as session:
            mark_deleted(session, report.deleted, now=now())
    echo(f"deleted {len(report.deleted)} menus of the previous deploy" if stale else "no earlier menus to delete")


__all__ = ["BULK_LIMIT", "DeployError", "MenuError", "Report", "deploy", "prepare"]
