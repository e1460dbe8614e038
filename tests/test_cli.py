"""The ``linewatch`` command: help, policy show, import (and dry run), token and user creation."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from argon2 import PasswordHasher
from click.testing import Result
from sqlalchemy import func, select
from typer.testing import CliRunner

from linewatch.access.models import ApiToken, User
from linewatch.access.service import actor_for_token
from linewatch.cli import app
from linewatch.context import Context, build_context
from linewatch.inventory.models import Circuit
from linewatch.settings import Settings
from tests.conftest import SMALL

ENV = ("DB", "POLICY", "CLOCK", "ADMIN_TOKEN", "PASSWORD", "PORT", "HOST")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads LINEWATCH_* from the environment: none may leak in from the caller."""
    for name in ENV:
        monkeypatch.delenv(f"LINEWATCH_{name}", raising=False)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'x.db'}"


@pytest.fixture
def opened(db: str) -> Iterator[Context]:
    """The CLI's database, for checking what the commands wrote (migrated here, as they would)."""
    context = build_context(Settings(db=db), migrate=True)
    yield context
    context.db.dispose()


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0, result.output
    for command in ("serve", "demo", "import", "policy", "token", "user"):
        assert command in result.stdout, command


def test_policy_show_prints_the_defaults_as_yaml() -> None:
    result = run("policy", "show")
    assert result.exit_code == 0, result.output
    assert "diagnosis_minutes: 15" in result.stdout
    shown = yaml.safe_load(result.stdout)
    assert shown["dispatch"]["diagnosis_minutes"] == 15
    assert shown["timezone"] == "Asia/Shanghai"


def test_policy_show_merges_a_file(tmp_path: Path) -> None:
    policy = write(tmp_path / "policy.yaml", "dispatch:\n  diagnosis_minutes: 20\n")
    result = run("policy", "show", "--policy", str(policy))
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.stdout)
    assert shown["dispatch"]["diagnosis_minutes"] == 20
    # the rest of the section and the other sections keep their defaults
    assert (
        shown["dispatch"]["overdue_branch_minutes"]
        == yaml.safe_load(run("policy", "show").stdout)["dispatch"]["overdue_branch_minutes"]
    )
    assert shown["access"]["login_max_failures"] == 5


def test_policy_show_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = write(tmp_path / "policy.yaml", "dispatch: {diagnosis_minutes: 25}\n")
    monkeypatch.setenv("LINEWATCH_POLICY", str(policy))
    result = run("policy", "show")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["dispatch"]["diagnosis_minutes"] == 25


@pytest.mark.parametrize(
    "content, named",
    [
        ("dispatch: {diagnosis_minutes: -1}\n", "dispatch.diagnosis_minutes"),
        ("dispatch: {diagnosis_minutes: soon}\n", "dispatch.diagnosis_minutes"),
        ("access: {login_lock_minutes: 0}\n", "access.login_lock_minutes"),
        ("dispatch: {no_such_rule: 3}\n", "dispatch.no_such_rule"),
        ("dispatch: [\n", "not valid YAML"),
    ],
)
def test_a_bad_policy_file_exits_1_naming_the_key(tmp_path: Path, content: str, named: str) -> None:
    policy = write(tmp_path / "policy.yaml", content)
    result = run("policy", "show", "--policy", str(policy))
    assert result.exit_code == 1
    assert named in result.stderr
    assert result.stdout == ""


def test_a_missing_policy_file_exits_1(tmp_path: Path) -> None:
    result = run("policy", "show", "--policy", str(tmp_path / "absent.yaml"))
    assert result.exit_code == 1
    assert "cannot read policy file" in result.stderr


def test_import_writes_the_inventory(db: str, tmp_path: Path) -> None:
    result = run("import", str(SMALL), "--db", db)
    assert result.exit_code == 0, result.output
    assert "circuits: created 4, updated 0" in result.stdout
    assert last_line(result.stdout) == "imported"
    again = run("import", str(SMALL), "--db", db)
    assert again.exit_code == 0, again.output
    assert "circuits: created 0, updated 4" in again.stdout


def test_import_reads_the_database_from_the_environment(
    db: str, opened: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINEWATCH_DB", db)
    result = run("import", str(SMALL))
    assert result.exit_code == 0, result.output
    with opened.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Circuit)) == 4


def test_a_broken_import_exits_1_and_writes_nothing(db: str, opened: Context, tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(SMALL, folder)
    circuits = folder / "circuits.csv"
    circuits.write_text(
        circuits.read_text(encoding="utf-8").replace("FZ-C002-INT-1,C002,", "FZ-C002-INT-1,C999,"),
        encoding="utf-8",
    )
    result = run("import", str(folder), "--db", db)
    assert result.exit_code == 1
    assert "circuits.csv:4" in result.stderr
    assert "C999" in result.stderr
    assert "nothing was written" in result.stderr
    assert "imported" not in result.stdout
    with opened.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Circuit)) == 0


def test_import_of_a_missing_path_exits_1(db: str, tmp_path: Path) -> None:
    result = run("import", str(tmp_path / "nowhere"), "--db", db)
    assert result.exit_code == 1
    assert "no such file or folder" in result.stderr


def test_dry_run_validates_and_writes_nothing(db: str, opened: Context) -> None:
    result = run("import", str(SMALL), "--db", db, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run" in result.stdout
    with opened.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Circuit)) == 0
    assert "circuits: created 4" in run("import", str(SMALL), "--db", db).stdout


def test_token_create_ingest_prints_a_working_token(db: str, opened: Context) -> None:
    result = run("token", "create", "--ingest", "ems-1", "--db", db)
    assert result.exit_code == 0, result.output
    token = last_line(result.stdout)
    assert len(token) >= 32 and " " not in token
    with opened.db.reading() as session:
        actor = actor_for_token(session, opened.clock, token, None)
        assert (actor.role, actor.label) == ("ingest", "ingest:ems-1")
        stored = session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored) == 1


def test_token_create_for_staff(db: str, opened: Context) -> None:
    assert run("import", str(SMALL), "--db", db).exit_code == 0
    result = run("token", "create", "--staff", "CA01", "--db", db)
    assert result.exit_code == 0, result.output
    with opened.db.reading() as session:
        actor = actor_for_token(session, opened.clock, last_line(result.stdout), None)
    assert actor.role == "contractor" and actor.team_id is not None

    unknown = run("token", "create", "--staff", "NOBODY", "--db", db)
    assert unknown.exit_code == 1
    assert "NOBODY" in unknown.stderr


def test_token_create_needs_exactly_one_kind(db: str) -> None:
    result = run("token", "create", "--db", db)
    assert result.exit_code == 1
    assert "exactly one" in result.stderr
    both = run("token", "create", "--ingest", "a", "--staff", "D01", "--db", db)
    assert both.exit_code == 1


def test_user_create_with_a_password(db: str, opened: Context) -> None:
    result = run("user", "create", "bob", "--role", "dispatcher", "--password", "correct horse", "--db", db)
    assert result.exit_code == 0, result.output
    assert "user bob ready" in result.stdout
    with opened.db.reading() as session:
        user = session.scalar(select(User).where(User.username == "bob"))
        assert user is not None and user.role == "dispatcher"
        assert user.password_hash and user.password_hash.startswith("$argon2id$")
        assert PasswordHasher().verify(user.password_hash, "correct horse")


def test_user_create_refusals(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    short = run("user", "create", "bob", "--role", "dispatcher", "--password", "short", "--db", db)
    assert short.exit_code == 1
    assert "8 characters" in short.stderr
    bad_role = run("user", "create", "bob", "--role", "wizard", "--password", "correct horse", "--db", db)
    assert bad_role.exit_code == 1
    assert "wizard" in bad_role.stderr
    no_password = run("user", "create", "bob", "--role", "dispatcher", "--db", db)
    assert no_password.exit_code == 1
    assert "password" in no_password.stderr
    monkeypatch.setenv("LINEWATCH_PASSWORD", "from the environment")
    from_env = run("user", "create", "bob", "--role", "dispatcher", "--db", db)
    assert from_env.exit_code == 0, from_env.output
    again = run("user", "create", "bob", "--role", "dispatcher", "--db", db)
    assert again.exit_code == 1
    assert "exists" in again.stderr


def test_demo_generates_imports_and_prints_a_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEWATCH_DEMO_PASSWORD", "demo-password-123")
    out = tmp_path / "city"
    result = run("demo", "--scale", "0.1", "--no-serve", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "admin / demo-password-123" in result.output
    assert (out / "circuits.csv").exists() and (out / "routes.csv").exists()
    database = next(
        line.split(": ", 1)[1] for line in result.output.splitlines() if line.startswith("database: ")
    )
    context = build_context(Settings(db=f"sqlite:///{database}"), migrate=False)
    with context.db.reading() as session:
        assert (session.scalar(select(func.count()).select_from(Circuit)) or 0) > 50
        assert session.scalar(select(User.role).where(User.username == "admin")) == "admin"
    context.db.dispose()
