"""Import the product catalogue from a spreadsheet's CSV:

    flask --app bot loyalty import-products products.csv [--dry-run]

Columns (a header row, names in any order): sku, name, and optionally category, price, active.
UTF-8 (with or without the BOM Excel writes) or Big5 (cp950, what Excel in Taiwan saves as "CSV").
A product already in the catalogue changes only in the columns the file has; an empty category or
price clears it. All or nothing: a bad row stops the import and names its line and column.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import click
from flask import Flask

from bot.services import services
from models.errors import DomainError
from models.product import PRODUCT_FIELDS, parse_product, upsert_products

ENCODINGS = ("utf-8-sig", "cp950")  # cp950: Big5 as Windows writes it (a superset of Big5)


def decode(data: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise click.ClickException("The file is neither UTF-8 nor Big5: save it from the spreadsheet as CSV (UTF-8)")


def read_rows(text: str) -> list[dict[str, Any]]:
    """The file's products as parse_product takes them, each refusal naming the file's line."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in ("sku", "name") if c not in header]
    if missing:
        raise click.ClickException(f"The header row needs the columns sku and name (missing: {', '.join(missing)}; "
                                   f"known: {', '.join(PRODUCT_FIELDS)})")
    unknown = [h for h in header if h not in PRODUCT_FIELDS]
    if unknown:
        raise click.ClickException(f"Unknown columns: {', '.join(unknown)} (known: {', '.join(PRODUCT_FIELDS)})")
    reader.fieldnames = header
    rows = []
    for record in reader:
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue  # a blank line
        raw: dict[str, Any] = {k: (v or "").strip() for k, v in record.items() if k in PRODUCT_FIELDS}
        if "active" in raw:
            flag = raw["active"].lower()
            raw["active"] = flag in ("1", "true", "yes", "y", "是") if flag else True
        rows.append(parse_product(raw, reader.line_num))
    return rows


def register(app: Flask) -> None:
    @app.cli.commands["loyalty"].command("import-products")  # type: ignore[union-attr]
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check the file and say what would change; change nothing.")
    def import_products(path: Path, dry_run: bool) -> None:
        """Create or change products from a CSV (sku,name,category,price)."""
        svc = services()
        try:
            rows = read_rows(decode(path.read_bytes()))
            with svc.db.sessions() as session:
                done = upsert_products(session, rows, now=svc.now())
                if dry_run:
                    session.rollback()
                else:
                    session.commit()
        except DomainError as exc:
            raise click.ClickException(f"{exc.message} ({exc.code}; a row is the file's line number); nothing was imported") from exc
        verb = "would create" if dry_run else "created"
        click.echo(f"{verb} {len(done.created)}, {'would update' if dry_run else 'updated'} {len(done.updated)} products; "
                   f"{done.items_linked} past receipt lines linked to their product")
