"""Flask CLI commands: ``flask --app bot db upgrade`` (the Procfile's release step)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from bot import db as database
from bot.services import services


def register(app: Flask) -> None:
    group = AppGroup("db", help="Database schema (Alembic migrations).")

    @group.command("upgrade")
    @click.argument("revision", default="head")
    def upgrade(revision: str) -> None:
        """Apply migrations up to REVISION (default: head)."""
        url = services().settings.database_url
        database.upgrade(url, revision)
        click.echo(f"database at {revision}")

    app.cli.add_command(group)

    from bot.cli import admin_users as admin_cli
    from bot.cli import credentials as credentials_cli
    from bot.cli import jobs
    from bot.cli import richmenu as richmenu_cli

    jobs.register(app)
    richmenu_cli.register(app)
    admin_cli.register(app)  # under the loyalty group jobs made
    credentials_cli.register(app)
