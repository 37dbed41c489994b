"""``flask --app bot loyalty affinity [--window-days N] [--top N]``: rebuild "members who buy X also
buy Y" (models/affinity.py) in one transaction. The daily job runs it after the segments."""
from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import with_appcontext

from bot.services import Services, services
from models.affinity import TOP_N, rebuild_affinity


def run_affinity(svc: Services, *, window_days: int | None = None, top_n: int = TOP_N) -> dict[str, int]:
    """One transaction: the whole table replaced, or (on any error) left as it was."""
    with svc.db.transaction() as session:
        return rebuild_affinity(session, now=svc.now(), window_days=window_days or svc.settings.affinity_window_days, top_n=top_n)


def register(app: Flask) -> None:
    @click.command("affinity")
    @with_appcontext
    @click.option("--window-days", type=click.IntRange(1, 3650), default=None, help="days of line items (default AFFINITY_WINDOW_DAYS)")
    @click.option("--top", type=click.IntRange(1, 100), default=TOP_N, show_default=True, help="pairs kept per product or category")
    def affinity_cmd(window_days: int | None, top: int) -> None:
        """Rebuild "members who buy X also buy Y" (SKUs and categories) from the window's line items."""
        started = time.perf_counter()
        kept = run_affinity(services(), window_days=window_days, top_n=top)
        click.echo(f"affinity: {kept['sku']} product pairs, {kept['category']} category pairs kept in {time.perf_counter() - started:.1f} s")

    app.cli.commands["loyalty"].add_command(affinity_cmd)  # type: ignore[union-attr]
