"""Importing a member list, from the command line and for the console (models/member_import.py):

    flask --app bot loyalty import members.csv [--dry-run] [--store CODE] [--batch-size 1000]

A dry run reads and checks every row and prints the report; nothing is written. Otherwise the rows
without errors are imported one batch per transaction (a progress bar on the terminal), and the
import is recorded (``member_import``) with its counts. The console's upload (bot/api/admin/member_imports.py)
records the job the same way and runs ``run_job`` in the background (bot/jobs/worker.py), the page polling
the counts. Either way, a second run of the same file imports nothing.
"""
from __future__ import annotations

import logging
from typing import Callable

import click
from flask import Flask
from sqlalchemy.orm import Session

from bot.services import Services, services
from models.errors import DomainError, InvalidInput, NotFound
from models.member_csv import FileError, parse_file
from models.member_import import BATCH, TAIPEI, MemberImport, Plan, finish_job, import_rows, new_job, plan_import, record_plan, tier_ids
from models.store import Store, get_store, list_stores

log = logging.getLogger(__name__)


def pick_store(session: Session, code: str | None) -> Store:
    """The store the pre-members are made at: the one named, or the only one there is."""
    if code:
        return get_store(session, code)
    stores = list_stores(session)
    if len(stores) != 1:
        raise InvalidInput("Name the store the members are imported at (--store CODE / store)", code="store_required",
                           details={"field": "store", "stores": [s.code for s in stores]})
    return stores[0]


def check_file(svc: Services, data: bytes, session: Session | None = None) -> Plan:
    """The dry run: every row parsed and checked against the database; nothing written."""
    if session is None:
        with svc.db.sessions() as own:
            return check_file(svc, data, own)
    try:
        parsed = parse_file(data, today=svc.now().astimezone(TAIPEI).date(), tiers=set(tier_ids(session)))
    except FileError as exc:
        raise InvalidInput(exc.message, code=f"import_{exc.code}") from exc
    return plan_import(session, parsed)


def create_job(svc: Services, data: bytes, *, source: str, store_code: str | None, created_by: str) -> int:
    with svc.db.transaction() as session:
        store = pick_store(session, store_code)
        return new_job(session, content=data, source=source, store_id=store.id, created_by=created_by, now=svc.now()).id


def run_job(svc: Services, job_id: int, *, batch_size: int = BATCH, progress: Callable[[int], None] | None = None,
            plan: Plan | None = None) -> MemberImport:
    """Check the job's file, then import it batch by batch (one transaction each), the job's counts
    committed with every batch. A failure marks the job failed; what committed stays, and running
    the file again goes on where it stopped (imported rows are unchanged)."""
    with svc.db.transaction() as session:
        job = session.get(MemberImport, job_id)
        if job is None:
            raise NotFound("No such import", code="import_not_found")
        content, job.status = job.content or b"", "running"
    try:
        plan = plan or check_file(svc, content)
        with svc.db.transaction() as session:
            record_plan(session.get(MemberImport, job_id), plan)  # type: ignore[arg-type]
        for start in range(0, len(plan.rows), batch_size):
            batch = plan.rows[start:start + batch_size]
            with svc.db.transaction() as session:
                import_rows(session, plan, batch, job=session.get(MemberImport, job_id), now=svc.now())  # type: ignore[arg-type]
            if progress:
                progress(len(batch))
    except Exception as exc:
        with svc.db.transaction() as session:
            job = session.get(MemberImport, job_id)
            failure = {"code": exc.code, "message": exc.message} if isinstance(exc, DomainError) else {"code": "import_failed", "message": type(exc).__name__}
            finish_job(job, status="failed", now=svc.now(), failure=failure)  # type: ignore[arg-type]
        log.exception("member import %s failed", job_id)
        raise
    with svc.db.transaction() as session:
        job = session.get(MemberImport, job_id)
        finish_job(job, status="done", now=svc.now())  # type: ignore[arg-type]
        session.flush()
        session.expunge(job)  # type: ignore[arg-type]
    return job  # type: ignore[return-value]


def _echo_report(report: dict, *, dry_run: bool) -> None:  # type: ignore[type-arg]
    for e in report["errors"]:
        click.echo(f"line {e['line']}: {e['column'] or '-'}: {e['code']}: {e['message']}", err=True)
    if report["ignored_columns"]:
        click.echo(f"ignored columns: {', '.join(report['ignored_columns'])}")
    verb = "would import" if dry_run else "imported"
    click.echo(f"{report['total']} rows ({report['encoding']}): {verb} {report['to_import']}, "
               f"{report['unchanged']} unchanged (imported before), {report['error_rows']} with errors")


def register(app: Flask) -> None:
    @app.cli.commands["loyalty"].command("import")  # type: ignore[union-attr]
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Check every row and print the report; import nothing.")
    @click.option("--store", "store_code", default=None, help="The store code the pre-members belong to (needed when there are several).")
    @click.option("--batch-size", type=click.IntRange(1, 10_000), default=BATCH, show_default=True)
    def import_cmd(path: str, dry_run: bool, store_code: str | None, batch_size: int) -> None:
        """Import an existing member list (CSV, UTF-8 or Big5) as pre-members; the README lists the columns."""
        svc = services()
        with open(path, "rb") as handle:
            data = handle.read()
        try:
            plan = check_file(svc, data)
            if dry_run:
                with svc.db.sessions() as session:
                    pick_store(session, store_code)
                _echo_report(plan.report(), dry_run=True)
                return
            job_id = create_job(svc, data, source=path.rsplit("/", 1)[-1], store_code=store_code, created_by="cli")
            with click.progressbar(length=len(plan.rows), label="importing", show_pos=True) as bar:
                run_job(svc, job_id, batch_size=batch_size, progress=bar.update, plan=plan)
        except DomainError as exc:
            raise click.ClickException(f"{exc.message} ({exc.code})") from exc
        _echo_report(plan.report(), dry_run=False)
        click.echo(f"import #{job_id} done")
