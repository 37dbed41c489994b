"""Console accounts from the command line (production has no sign-up page, on purpose):

    flask --app bot loyalty admin-user create EMAIL --role owner [--name NAME]   (asks for the password)
    flask --app bot loyalty admin-user password EMAIL                            (new password; signs out)
    flask --app bot loyalty admin-user disable EMAIL | enable EMAIL
    flask --app bot loyalty admin-user list
"""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from bot.services import services
from models.admin_user import ROLES, AdminUser, create_admin_user, get_admin_user, set_active, set_password
from models.errors import DomainError

PASSWORD = click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                        help="At least 8 characters; asked for when not given (keeps it out of the shell history).")


def _fail(exc: DomainError) -> None:
    raise click.ClickException(f"{exc.message} ({exc.code})")


def register(app: Flask) -> None:
    group = AppGroup("admin-user", help="Accounts for the admin console at /admin.")

    @group.command("create")
    @click.argument("email")
    @click.option("--role", type=click.Choice(list(ROLES)), default="marketer", show_default=True)
    @click.option("--name", default="", help="Shown in the console (default: the part of the email before @).")
    @PASSWORD
    def create(email: str, role: str, name: str, password: str) -> None:
        """Create a console account."""
        svc = services()
        try:
            with svc.db.transaction() as session:
                user = create_admin_user(session, email=email, password=password, role=role, display_name=name, now=svc.now())
        except DomainError as exc:
            _fail(exc)
        click.echo(f"created {user.email} ({user.role}: {', '.join(ROLES[user.role])})")

    @group.command("password")
    @click.argument("email")
    @PASSWORD
    def password_cmd(email: str, password: str) -> None:
        """Set a new password (ends a lock, signs the user out)."""
        svc = services()
        try:
            with svc.db.transaction() as session:
                set_password(session, get_admin_user(session, email), password, now=svc.now())
        except DomainError as exc:
            _fail(exc)
        click.echo(f"password changed for {email.strip().lower()}")

    for name, active in (("enable", True), ("disable", False)):
        @group.command(name, help=f"{name.capitalize()} an account{'' if active else ' and sign it out'}.")
        @click.argument("email")
        def toggle(email: str, active: bool = active) -> None:
            svc = services()
            try:
                with svc.db.transaction() as session:
                    set_active(session, get_admin_user(session, email), active, now=svc.now())
            except DomainError as exc:
                _fail(exc)
            click.echo(f"{email.strip().lower()} {'enabled' if active else 'disabled'}")

    @group.command("list")
    def list_cmd() -> None:
        """Every account with its role."""
        with services().db.sessions() as session:
            for user in session.query(AdminUser).order_by(AdminUser.email):
                click.echo(f"{user.email}\t{user.role}\t{'active' if user.is_active else 'disabled'}\t{user.display_name}")

    app.cli.commands["loyalty"].add_command(group)  # type: ignore[union-attr]
