"""The ``linewatch`` command. Every option also reads ``LINEWATCH_<OPTION>`` from the environment."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
import yaml

from linewatch.core.errors import LinewatchError

app = typer.Typer(
    help="Linewatch — fault monitoring, dispatch and assurance for enterprise leased lines (集团客户专线).",
    no_args_is_help=True,
    add_completion=False,
)
policy_app = typer.Typer(help="The policy: every threshold of the domain rules.", no_args_is_help=True)
token_app = typer.Typer(
    help="API tokens (bearer) for people and for ingesting systems.", no_args_is_help=True
)
user_app = typer.Typer(help="Web logins.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
app.add_typer(token_app, name="token")
app.add_typer(user_app, name="user")

DbOption = Annotated[
    str | None, typer.Option("--db", help="SQLAlchemy URL (sqlite:///… or postgresql://…); env LINEWATCH_DB")
]
PolicyOption = Annotated[
    str | None, typer.Option("--policy", help="policy YAML merged over the defaults; env LINEWATCH_POLICY")
]


def _settings(**overrides: object) -> object:
    from linewatch.settings import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def _store_process(flag: bool | None) -> bool | None:
    """`serve` and `demo` write through the store process unless told otherwise (flag or
    LINEWATCH_STORE_PROCESS); contexts built in-process (tests, tools) keep the setting's off."""
    if flag is None and "LINEWATCH_STORE_PROCESS" not in os.environ:
        return True
    return flag


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on; env LINEWATCH_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port; env LINEWATCH_PORT")] = None,
    db: DbOption = None,
    policy: PolicyOption = None,
    snmp_port: Annotated[
        int | None, typer.Option(help="SNMP trap UDP port, 0 = off; env LINEWATCH_SNMP_PORT")
    ] = None,
    syslog_port: Annotated[
        int | None, typer.Option(help="syslog UDP/TCP port, 0 = off; env LINEWATCH_SYSLOG_PORT")
    ] = None,
    worker_process: Annotated[
        bool | None,
        typer.Option(
            "--worker-process/--no-worker-process",
            help="dispatch, timers, notifications in a child process; env LINEWATCH_WORKER_PROCESS",
        ),
    ] = None,
    store_process: Annotated[
        bool | None,
        typer.Option(
            "--store-process/--no-store-process",
            help="the pipeline's rounds written by a child process (default on); env LINEWATCH_STORE_PROCESS",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the API, the web UI and every listener; with --worker-process (or
    LINEWATCH_WORKER_PROCESS=1) dispatch, timers and notifications in a child process."""
    settings = _settings(
        host=host,
        port=port,
        db=db,
        policy=policy,
        snmp_port=snmp_port,
        syslog_port=syslog_port,
        worker_process=worker_process,
        store_process=_store_process(store_process),
        tune_gc=True,
    )
    _run(settings)


@app.command()
def worker() -> None:
    """The worker process `serve --worker-process` starts (dispatch, timers, notifications): reads the
    pipeline's incident changes on stdin, one JSON line each, and stops when stdin closes."""
    from linewatch.context import build_context
    from linewatch.core.runtime import freeze_long_lived
    from linewatch.logs import configure
    from linewatch.worker import run

    # Ctrl+C in a terminal and a service manager's SIGTERM reach the whole process group: the
    # worker drains and stops when its parent closes stdin, after the parent's own drain.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    settings = _settings()
    configure(settings.log_format)  # type: ignore[attr-defined]
    ctx = build_context(settings, migrate=False, books=False)  # type: ignore[arg-type]
    if ctx.settings.tune_gc:
        freeze_long_lived()
    run(ctx, sys.stdin.buffer, sys.stdout.buffer)


def _run(settings: object) -> None:
    import uvicorn

    from linewatch.app import create_app
    from linewatch.context import build_context
    from linewatch.logs import configure

    try:
        configure(settings.log_format)  # type: ignore[attr-defined]
        ctx = build_context(settings)  # type: ignore[arg-type]
    except (LinewatchError, ValueError) as exc:
        _fail(str(exc))
    application = create_app(ctx)
    settings = ctx.settings
    logging.getLogger("linewatch").info(
        "Linewatch listening on http://%s:%d/  (database %s)", settings.host, settings.port, ctx.db.dialect
    )
    # log_config=None: uvicorn's loggers go through ours (text or JSON lines, secrets masked)
    uvicorn.run(application, host=ctx.settings.host, port=ctx.settings.port, log_config=None)


@app.command()
def demo(
    scale: Annotated[float, typer.Option(help="network size: 1 ≈ 300 customers / 1,500 circuits")] = 1.0,
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same city")] = 7,
    port: Annotated[int | None, typer.Option(help="HTTP port; env LINEWATCH_PORT")] = None,
    host: Annotated[str | None, typer.Option(help="address to listen on; env LINEWATCH_HOST")] = None,
    out: Annotated[Path | None, typer.Option(help="keep the generated CSV files in this folder")] = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="generate and import, then stop")] = False,
    faults: Annotated[bool, typer.Option(help="run the live fault simulator")] = True,
) -> None:
    """A fresh embedded database with a generated city network, then serve it; prints URL and login."""
    from linewatch.context import build_context
    from linewatch.demo.generator import generate

    workdir = Path(tempfile.mkdtemp(prefix="linewatch-demo-"))
    csv_dir = out or workdir / "inventory"
    csv_dir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / "demo.db"
    counts = generate(csv_dir, scale=scale, seed=seed)
    typer.echo("generated " + ", ".join(f"{n} {name}" for name, n in counts.items()) + f" in {csv_dir}")
    settings = _settings(
        db=f"sqlite:///{db_path}", port=port, host=host, tune_gc=True, store_process=_store_process(None)
    )
    ctx = build_context(settings)  # type: ignore[arg-type]
    report = _import(ctx, csv_dir, dry_run=False)
    if not report.ok:
        _fail("the generated inventory did not import (a bug)")
    password = os.environ.get("LINEWATCH_DEMO_PASSWORD") or secrets.token_urlsafe(9)
    from linewatch.access.service import create_user
    from linewatch.core.actor import SYSTEM

    with ctx.db.unit_of_work() as session:
        create_user(
            session,
            ctx.clock,
            SYSTEM,
            username="admin",
            role="admin",
            password=password,
            display_name="演示管理员 Demo admin",
        )
    typer.echo(f"database: {db_path}")
    typer.echo(f"open http://{ctx.settings.host}:{ctx.settings.port}/  and log in as  admin / {password}")
    if no_serve:
        return
    if faults:
        from linewatch.demo.simulator import FaultSimulator

        ctx.workers.append(FaultSimulator(ctx.sink, lambda: ctx.index, ctx.clock.now, seed=seed))
        typer.echo("live fault simulator on: faults are raised and cleared every few seconds")
    import uvicorn

    from linewatch.app import create_app

    try:
        uvicorn.run(create_app(ctx), host=ctx.settings.host, port=ctx.settings.port, log_level="warning")
    finally:
        if out is None:
            shutil.rmtree(csv_dir, ignore_errors=True)


def _import(ctx: object, path: Path, dry_run: bool) -> object:
    from linewatch.core.actor import Actor
    from linewatch.core.bus import INVENTORY_CHANGED
    from linewatch.inventory.service import import_inventory
    from linewatch.inventory.sources import read_path

    read = read_path(path)
    actor = Actor(label=f"cli:{os.environ.get('USER', 'operator')}", role="admin")
    with ctx.db.unit_of_work() as session:  # type: ignore[attr-defined]
        report = import_inventory(session, ctx.clock, read, actor, dry_run)  # type: ignore[attr-defined]
    for warning in report.warnings:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
    for error in report.errors:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    if report.ok and not dry_run:
        ctx.bus.publish(INVENTORY_CHANGED, report.counts)  # type: ignore[attr-defined]
    return report


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="a folder of <table>.csv files or one .xlsx workbook")],
    db: DbOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate only; write nothing")] = False,
) -> None:
    """Import inventory (upsert by key). Any error: nothing is written, every error is listed."""
    from linewatch.context import build_context

    ctx = build_context(_settings(db=db))  # type: ignore[arg-type]
    report = _import(ctx, path, dry_run)
    if not report.ok:  # type: ignore[attr-defined]
        _fail(f"import refused: {len(report.errors)} error(s); nothing was written")  # type: ignore[attr-defined]
    for table, counts in report.counts.items():  # type: ignore[attr-defined]
        typer.echo(f"{table}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    typer.echo("dry run: valid, nothing written" if dry_run else "imported")


@policy_app.command("show")
def policy_show(policy: PolicyOption = None) -> None:
    """Print the effective policy (defaults merged with the file) as YAML."""
    from linewatch.core.policy import load_policy

    try:
        effective = load_policy(policy or os.environ.get("LINEWATCH_POLICY"))
    except LinewatchError as exc:
        _fail(str(exc))
    typer.echo(yaml.safe_dump(effective.as_plain(), allow_unicode=True, sort_keys=False))


@token_app.command("create")
def token_create(
    staff: Annotated[
        str | None, typer.Option(help="a token acting as this staff member (their role)")
    ] = None,
    ingest: Annotated[str | None, typer.Option(help="an ingest-only token for this sending system")] = None,
    user: Annotated[str | None, typer.Option(help="a token acting as this web user")] = None,
    db: DbOption = None,
) -> None:
    """Create a bearer token; the token is printed on the last line."""
    from linewatch.access.service import create_token
    from linewatch.context import build_context
    from linewatch.core.actor import Actor

    ctx = build_context(_settings(db=db))  # type: ignore[arg-type]
    actor = Actor(label=f"cli:{os.environ.get('USER', 'operator')}", role="admin")
    try:
        with ctx.db.unit_of_work() as session:
            issued = create_token(session, ctx.clock, actor, staff=staff, ingest_name=ingest, username=user)
    except LinewatchError as exc:
        _fail(exc.message)
    typer.echo(f"token {issued.id} ({issued.kind}: {issued.name})", err=True)
    typer.echo(issued.token)


@user_app.command("create")
def user_create(
    username: Annotated[
        str, typer.Argument(help="login name (ignored with --staff: the staff code is used)")
    ],
    role: Annotated[str, typer.Option(help="role, e.g. admin, dispatcher")] = "admin",
    staff: Annotated[str | None, typer.Option(help="link to this staff member, taking their role")] = None,
    password: Annotated[
        str | None, typer.Option(help="password; read from LINEWATCH_PASSWORD or asked")
    ] = None,
    db: DbOption = None,
) -> None:
    """Create a web login (or set its password)."""
    from linewatch.access.service import create_user
    from linewatch.context import build_context
    from linewatch.core.actor import Actor

    secret = password or os.environ.get("LINEWATCH_PASSWORD")
    if not secret:
        if not sys.stdin.isatty():
            _fail("give --password or LINEWATCH_PASSWORD")
        secret = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    ctx = build_context(_settings(db=db))  # type: ignore[arg-type]
    actor = Actor(label=f"cli:{os.environ.get('USER', 'operator')}", role="admin")
    try:
        with ctx.db.unit_of_work() as session:
            created = create_user(
                session, ctx.clock, actor, username=username, role=role, password=secret, staff=staff
            )
            name = created.username
    except (LinewatchError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(f"user {name} ready")


@app.command()
def migrate(db: DbOption = None) -> None:
    """Bring the database schema to the newest migration (serve and import do this too)."""
    from linewatch.db.engine import Database
    from linewatch.db.migrate import upgrade

    database = Database(_settings(db=db).db)  # type: ignore[attr-defined]
    upgrade(database)
    typer.echo(f"schema up to date ({database.dialect})")


@app.command("backup")
def backup_command(
    target: Annotated[Path, typer.Argument(help="the backup file to write")],
    db: DbOption = None,
) -> None:
    """Back up the database while it serves (SQLite online backup; PostgreSQL pg_dump, custom format)."""
    from linewatch.db.backup import BackupError, backup

    try:
        typer.echo(backup(_settings(db=db).db, target))  # type: ignore[attr-defined]
    except BackupError as exc:
        _fail(str(exc))


@app.command("restore")
def restore_command(
    source: Annotated[Path, typer.Argument(help="a file written by 'linewatch backup'")],
    db: DbOption = None,
) -> None:
    """Restore a backup into a new, empty database (a new SQLite file; a PostgreSQL database made by
    createdb). Then start the server on it."""
    from linewatch.db.backup import BackupError, restore

    try:
        typer.echo(restore(source, _settings(db=db).db))  # type: ignore[attr-defined]
    except BackupError as exc:
        _fail(str(exc))


if __name__ == "__main__":
    app()
