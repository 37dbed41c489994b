"""Admin tokens and staff accounts from the command line:

    flask --app bot loyalty token list [--sessions]
    flask --app bot loyalty token create NAME --scope members:read [--scope …] [--days N]   (prints it once)
    flask --app bot loyalty token revoke ID
    flask --app bot loyalty staff disable STORE USERNAME | enable STORE USERNAME
    flask --app bot loyalty staff password STORE USERNAME          (asks for the password; signs out)
    flask --app bot loyalty staff sign-out STORE USERNAME          (every device)
"""
from __future__ import annotations

from typing import Callable

import click
from flask import Flask
from flask.cli import AppGroup

from bot.cli.admin_users import PASSWORD, _fail
from bot.services import services
from models import admin
from models.errors import DomainError
from models.store import Staff, get_staff, get_store, set_staff_active, set_staff_password, sign_out_staff


def _tokens() -> AppGroup:
    group = AppGroup("token", help="Admin API tokens: list, create, revoke.")

    @group.command("list")
    @click.option("--sessions", is_flag=True, help="Console sign-in sessions too.")
    def list_cmd(sessions: bool) -> None:
        svc = services()
        with svc.db.sessions() as session:
            for t in admin.list_tokens(session, include_sessions=sessions):
                info = admin.token_json(t, svc.now())
                state = "active" if info["active"] else ("revoked" if t.revoked_at else "expired")
                click.echo(f"{t.id}\t{t.name}\t{','.join(t.scopes)}\t{state}\texpires {info['expires_at'] or 'never'}")

    @group.command("create")
    @click.argument("name")
    @click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(list(admin.SCOPES)))
    @click.option("--days", type=int, default=None, help="Expires after this many days (default: until revoked).")
    def create(name: str, scopes: tuple[str, ...], days: int | None) -> None:
        svc = services()
        try:
            with svc.db.transaction() as session:
                token, plain = admin.create_token(session, name=name, scopes=list(scopes), now=svc.now(), expires_in_days=days)
        except DomainError as exc:
            _fail(exc)
        click.echo(f"token {token.id} ({', '.join(token.scopes)}): {plain}\nshown once: keep it somewhere safe")

    @group.command("revoke")
    @click.argument("token_id", type=int)
    def revoke(token_id: int) -> None:
        svc = services()
        try:
            with svc.db.transaction() as session:
                admin.revoke_token(session, token_id, now=svc.now())
        except DomainError as exc:
            _fail(exc)
        click.echo(f"token {token_id} revoked")

    return group


def _staff() -> AppGroup:
    group = AppGroup("staff", help="Counter staff accounts: disable, enable, new password, sign out everywhere.")

    def change(store: str, username: str, what: Callable[[Staff], None], done: str) -> None:
        svc = services()
        try:
            with svc.db.transaction() as session:
                what(get_staff(session, get_store(session, store), username))
        except DomainError as exc:
            _fail(exc)
        click.echo(f"{username.strip().lower()} at {store}: {done}")

    for name, active in (("enable", True), ("disable", False)):
        @group.command(name, help=f"{name.capitalize()} a staff account{'' if active else ' (refused at once, everywhere)'}.")
        @click.argument("store")
        @click.argument("username")
        def toggle(store: str, username: str, active: bool = active) -> None:
            change(store, username, lambda s: set_staff_active(s, active), "enabled" if active else "disabled")

    @group.command("password")
    @click.argument("store")
    @click.argument("username")
    @PASSWORD
    def password_cmd(store: str, username: str, password: str) -> None:
        """Set a new password (signs the account out everywhere)."""
        change(store, username, lambda s: set_staff_password(s, password), "password changed, signed out everywhere")

    @group.command("sign-out")
    @click.argument("store")
    @click.argument("username")
    def sign_out(store: str, username: str) -> None:
        """End every staff token of this account."""
        change(store, username, sign_out_staff, "signed out everywhere")

    return group


def register(app: Flask) -> None:
    for group in (_tokens(), _staff()):
        app.cli.commands["loyalty"].add_command(group)  # type: ignore[union-attr]
