"""Inventory import on SQLite and PostgreSQL: all-or-nothing, every error located, upsert."""

from __future__ import annotations

import shutil
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select

from linewatch.context import Context
from linewatch.core.actor import SYSTEM
from linewatch.db.audit import AuditEntry
from linewatch.inventory.index import ImpactIndex
from linewatch.inventory.models import (
    Circuit,
    Customer,
    NetworkElement,
    Port,
    RosterShift,
    Route,
    RouteHop,
    Team,
)
from linewatch.inventory.service import import_inventory
from linewatch.inventory.sources import read_path
from tests.conftest import SMALL


def run(ctx: Context, path: Path, dry_run: bool = False):
    with ctx.db.unit_of_work() as session:
        return import_inventory(session, ctx.clock, read_path(path), SYSTEM, dry_run)


def count(ctx: Context, model: type) -> int:
    with ctx.db.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def copy_small(tmp_path: Path) -> Path:
    target = tmp_path / "inv"
    shutil.copytree(SMALL, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_imports_the_small_network(ctx: Context) -> None:
    report = run(ctx, SMALL)
    assert report.ok, report.errors
    assert report.counts["circuits"] == {"created": 4, "updated": 0}
    assert count(ctx, Circuit) == 4
    assert count(ctx, Route) == 5  # one circuit dual-routed
    assert count(ctx, RouteHop) == 15
    assert count(ctx, RosterShift) == 2
    with ctx.db.reading() as session:
        onu = session.scalar(select(NetworkElement).where(NetworkElement.name == "ONU-C002"))
        olt = session.scalar(select(NetworkElement).where(NetworkElement.name == "OLT-TJ-1"))
        assert onu.parent_id == olt.id and onu.parent_port == "0/1/1"
        # the OLT's PON port was created from the parent link, ports named only by routes too
        assert session.scalar(select(Port).where(Port.ne_id == olt.id, Port.name == "0/1/1")) is not None
        ct_a = session.scalar(select(Team).where(Team.code == "CT-A"))
        assert [r.code for r in ct_a.regions] == ["GL"]


def test_reimport_upserts_without_duplicates(ctx: Context, tmp_path: Path) -> None:
    assert run(ctx, SMALL).ok
    folder = copy_small(tmp_path)
    edit(folder / "customers.csv", "台江区小食品店", "台江区小食品商店")
    # move FZ-C003-DATA-1 to a different route
    edit(
        folder / "routes.csv",
        "FZ-C003-DATA-1,primary,1,AGG-GL-2,GE0/2/5",
        "FZ-C003-DATA-1,primary,1,AGG-GL-3,GE0/2/7",
    )
    report = run(ctx, folder)
    assert report.ok, report.errors
    assert report.counts["customers"] == {"created": 0, "updated": 3}
    assert count(ctx, Customer) == 3
    assert count(ctx, Circuit) == 4
    assert count(ctx, RouteHop) == 15
    with ctx.db.reading() as session:
        assert session.scalar(select(Customer.name).where(Customer.code == "C002")) == "台江区小食品商店"
        index = ImpactIndex.build(session)
    agg2 = index.resolve_ne("AGG-GL-2")
    agg3 = index.resolve_ne("AGG-GL-3")
    assert agg2 is not None and agg3 is not None
    codes2 = {index.circuit_code[h.circuit_id] for h in index.hits(agg2)}
    codes3 = {index.circuit_code[h.circuit_id] for h in index.hits(agg3)}
    assert "FZ-C003-DATA-1" not in codes2 and "FZ-C003-DATA-1" in codes3


def test_every_error_located_and_nothing_written(ctx: Context, tmp_path: Path) -> None:
    folder = copy_small(tmp_path)
    edit(folder / "circuits.csv", "FZ-C002-INT-1,C002,", "FZ-C002-INT-1,C999,")  # unknown customer
    edit(folder / "circuits.csv", "FZ-C003-DATA-1,C003,data", "FZ-C003-DATA-1,C003,telepathy")  # bad enum
    edit(folder / "routes.csv", "FZ-C001-VOICE-1,primary,3,CORE-1", "FZ-C001-VOICE-1,primary,3,CORE-9")
    edit(folder / "regions.csv", "TJ,台江区", "TJ,台江区\nGL,又一个鼓楼")  # duplicate key
    report = run(ctx, folder)
    assert not report.ok
    found = {(e.file, e.row, e.column): e.message for e in report.errors}
    assert "unknown customer 'C999'" in found[("circuits.csv", 4, "customer")]
    assert "'telepathy' is not one of" in found[("circuits.csv", 5, "service_type")]
    assert "route hop on unknown NE 'CORE-9'" in found[("routes.csv", 11, "ne")]
    assert "duplicate key 'GL'" in found[("regions.csv", 4, "code")]
    for model in (Circuit, Customer, NetworkElement, RouteHop, AuditEntry):
        assert count(ctx, model) == 0, model


def test_partial_import_resolves_against_the_database(ctx: Context, tmp_path: Path) -> None:
    assert run(ctx, SMALL).ok
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "circuits.csv").write_text(
        "code,customer,service_type,access,site_role,assurance,maintainer\n"
        "FZ-C003-DATA-2,C003,data,PTN,center,AAA,CT-A\n",
        encoding="utf-8",
    )
    (folder / "routes.csv").write_text(
        "circuit,route,seq,ne,port\nFZ-C003-DATA-2,primary,1,AGG-GL-1,GE0/3/1\nFZ-C003-DATA-2,primary,2,CORE-1,\n",
        encoding="utf-8",
    )
    report = run(ctx, folder)
    assert report.ok, report.errors
    assert count(ctx, Circuit) == 5


def test_reimport_keeps_columns_the_file_lacks(ctx: Context, tmp_path: Path) -> None:
    assert run(ctx, SMALL).ok
    folder = tmp_path / "names"
    folder.mkdir()
    (folder / "customers.csv").write_text(
        "code,name,level,grade\nC001,鼓楼区政府,provincial,gold\n", encoding="utf-8"
    )
    assert run(ctx, folder).ok
    with ctx.db.reading() as session:
        c = session.scalar(select(Customer).where(Customer.code == "C001"))
        assert (
            c.name == "鼓楼区政府" and c.contact_phone == "13900000001" and c.account_manager_id is not None
        )


def test_dry_run_validates_and_writes_nothing(ctx: Context) -> None:
    report = run(ctx, SMALL, dry_run=True)
    assert report.ok and report.dry_run
    assert report.counts["circuits"] == {"rows": 4}
    assert count(ctx, Circuit) == 0


def test_xlsx_workbook_imports_like_the_csv_folder(ctx: Context, tmp_path: Path) -> None:
    import csv

    book = Workbook()
    book.remove(book.active)
    for csv_file in sorted(SMALL.glob("*.csv")):
        sheet = book.create_sheet(csv_file.stem)
        with csv_file.open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                sheet.append([int(v) if v.isdigit() and csv_file.stem == "routes" else v for v in row])
    path = tmp_path / "inventory.xlsx"
    book.save(path)
    report = run(ctx, path)
    assert report.ok, report.errors
    assert count(ctx, Circuit) == 4 and count(ctx, RouteHop) == 15


def test_import_is_audited(ctx: Context) -> None:
    assert run(ctx, SMALL).ok
    with ctx.db.reading() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "circuits")).all()
        assert len(entries) == 1
        assert entries[0].actor == "system" and entries[0].action == "import"
        assert entries[0].after["created"] == 4 and "FZ-C001-DATA-1" in entries[0].after["created_keys"]


def test_backup_route_without_primary_is_refused(ctx: Context, tmp_path: Path) -> None:
    folder = copy_small(tmp_path)
    edit(folder / "routes.csv", "FZ-C003-DATA-1,primary", "FZ-C003-DATA-1,backup")
    report = run(ctx, folder)
    assert any("backup route but no primary" in e.message for e in report.errors)
