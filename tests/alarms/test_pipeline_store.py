"""The pipeline when the database refuses a write (503, nothing half-kept, recovery), and how
alarm lists read their circuits.

The failure is real: a database trigger aborts inserting one alarm (SQLite and PostgreSQL).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from linewatch.context import Context
from tests.alarms.test_scenarios import alarm, incidents, post
from tests.conftest import ADMIN

SQLITE_TRIGGER = """
CREATE TRIGGER refuse_boom BEFORE INSERT ON alarm WHEN NEW.object = 'BOOM'
BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END
"""
PG_TRIGGER = [
    """CREATE FUNCTION refuse_boom() RETURNS trigger AS $$
    BEGIN IF NEW.object = 'BOOM' THEN RAISE EXCEPTION 'refused by test trigger'; END IF; RETURN NEW; END
    $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER refuse_boom BEFORE INSERT ON alarm FOR EACH ROW EXECUTE FUNCTION refuse_boom()",
]


def _refuse_boom(ctx: Context, on: bool) -> None:
    sqlite = ctx.db.url.startswith("sqlite")
    with ctx.db.engine.begin() as conn:
        if on:
            for statement in [SQLITE_TRIGGER] if sqlite else PG_TRIGGER:
                conn.execute(text(statement))
        else:
            conn.execute(text("DROP TRIGGER refuse_boom" + ("" if sqlite else " ON alarm")))
            if not sqlite:
                conn.execute(text("DROP FUNCTION refuse_boom()"))


def test_a_refused_write_answers_503_keeps_nothing_and_the_pipeline_recovers(
    small: Context, client: TestClient
) -> None:
    [first] = post(client, alarm("ACC-GL-1", "LOS", "GE0/2/1", "critical"))["ids"]
    _refuse_boom(small, on=True)
    refused = client.post(
        "/api/v1/alarms",
        json=[alarm("AGG-GL-2", "LOS", "GE0/2/5", "critical"), alarm("ACC-GL-1", "LOS", "BOOM")],
        headers=ADMIN,
    )
    assert refused.status_code == 503, refused.text
    assert "retry" in refused.json()["error"]
    # nothing of the refused round is kept: not its good alarm, not its raw events
    listed = client.get("/api/v1/alarms", headers=ADMIN).json()["items"]
    assert [(a["ne"], a["object"]) for a in listed] == [("ACC-GL-1", "GE0/2/1")]
    assert small.pipeline.stats["failures"] == 1

    _refuse_boom(small, on=False)
    # the books were reloaded: the good alarm of the refused round is new again, not a duplicate
    ids = post(client, alarm("AGG-GL-2", "LOS", "GE0/2/5", "critical"), alarm("ACC-GL-1", "LOS", "BOOM"))[
        "ids"
    ]
    assert post(client, alarm("ACC-GL-1", "LOS", "GE0/2/1", "critical"))["ids"] == [first]  # a duplicate
    listed = client.get("/api/v1/alarms", headers=ADMIN).json()["items"]
    assert sorted(a["id"] for a in listed) == sorted([first, *ids]) and len(set(ids)) == 2
    assert {a["id"]: a["count"] for a in listed} == {first: 2, ids[0]: 1, ids[1]: 1}
    circuits = {i["circuit"] for incident in incidents(client) for i in incident["impacts"]}
    assert {"FZ-C001-DATA-1", "FZ-C003-DATA-1"} <= circuits


def test_alarm_lists_read_circuits_from_the_index_and_fall_back_to_the_database(
    small: Context, client: TestClient
) -> None:
    """The index supplies circuit and customer codes; circuits it does not know (removed from the
    inventory since) come from the database: both give the same answer."""
    from linewatch.alarms import service
    from linewatch.core.actor import SYSTEM
    from linewatch.inventory.index import ImpactIndex

    post(
        client, alarm("ACC-GL-1", "LOS", "GE0/2/1", "critical"), alarm("OLT-TJ-1", "LOS", "0/1/1", "critical")
    )
    with small.db.reading() as session:
        from_index = service.list_alarms(
            session, SYSTEM, small.suggestions, limit=10, cursor=None, index=small.index
        )
        from_db = service.list_alarms(
            session, SYSTEM, small.suggestions, limit=10, cursor=None, index=ImpactIndex()
        )
    assert from_index == from_db
    assert {c for a in from_index["items"] for c in a["circuits"]} >= {"FZ-C001-DATA-1"}
    assert {c for a in from_index["items"] for c in a["customers"]} >= {"C001", "C002"}


def _hold_writes(ctx: Context) -> Callable[[], None]:
    """Make the pipeline's committer wait until the returned function is called."""
    if ctx.db.write_turn is not None:  # SQLite: the committer waits for the turn we hold
        ctx.db.write_turn.acquire()
        return ctx.db.write_turn.release
    blocker = ctx.db.engine.connect()  # PostgreSQL: the committer waits for a table we lock
    transaction = blocker.begin()
    blocker.execute(text("LOCK TABLE alarm_event IN ACCESS EXCLUSIVE MODE"))

    def release() -> None:
        transaction.rollback()
        blocker.close()

    return release


def _until(condition: Callable[[], bool]) -> None:
    """Wait for another thread to reach a state (a condition, not a duration)."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the pipeline never got there"
        time.sleep(0.001)


def test_what_queues_while_a_round_is_written_goes_in_one_round(small: Context, client: TestClient) -> None:
    """Group commit: the writer cuts a round only once the committer has taken the one before,
    so everything that queued meanwhile is written in one transaction (a commit costs about the
    same for one alarm as for dozens)."""
    from linewatch.alarms.normalise import normalise_native

    at = small.clock.now()
    events = [
        normalise_native(alarm("ACC-GL-1", "LOS", f"GE0/2/{n}", "critical"), at, small.clock.tz, {})
        for n in range(20)
    ]
    before = small.pipeline.stats["transactions"]
    release = _hold_writes(small)
    try:
        answers = [small.pipeline.enqueue("http", [events[0]])]
        # round 1 taken by the committer, which waits with it (taken, not yet done): while it sat in
        # the rounds queue, every event below would have found it full and queued behind it
        rounds = small.pipeline.rounds
        _until(lambda: rounds.unfinished_tasks == 1 and rounds.qsize() == 0)
        for event in events[1:]:  # one at a time, each taken into a round if the writer would
            answers.append(small.pipeline.enqueue("http", [event]))
            _until(lambda: small.pipeline.queue_depth == 0 or small.pipeline.rounds.full())
    finally:
        release()
    assert all(len(answer.result(timeout=30)) == 1 for answer in answers)
    # round 1 written, round 2 waiting to be taken, the other 18 alarms in round 3
    assert small.pipeline.stats["transactions"] - before == 3


def test_a_sender_that_gives_up_cancels_nothing_and_the_pipeline_goes_on(
    small: Context, client: TestClient
) -> None:
    """The HTTP edge awaits the pipeline's future (decision 99); if a waiter's future is cancelled
    (it must not be, the edge shields it — this is the belt to those braces) the alarm is stored
    all the same and the committer goes on answering the others."""
    from linewatch.alarms.normalise import normalise_native

    at = small.clock.now()
    event = normalise_native(alarm("ACC-GL-1", "LOS", "GE0/2/1", "critical"), at, small.clock.tz, {})
    release = _hold_writes(small)
    try:
        pending = small.pipeline.enqueue("http", [event])
        assert pending.cancel(), "the answer cannot have come while the write waits"
    finally:
        release()
    ids = post(client, alarm("AGG-GL-2", "LOS", "GE0/2/5", "critical"))["ids"]
    assert ids
    listed = client.get("/api/v1/alarms", headers=ADMIN).json()["items"]
    assert {(a["ne"], a["object"]) for a in listed} == {("ACC-GL-1", "GE0/2/1"), ("AGG-GL-2", "GE0/2/5")}
    assert small.pipeline.stats["failures"] == 0


def test_lists_show_a_bounded_number_of_an_alarms_circuits_the_filtered_customers_first(
    small: Context, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decision 132: a hub alarm's thousands of circuits are not all listed in every list row;
    ``circuit_count`` tells the whole number, the alarm's own page shows them, and a list filtered
    by a customer shows that customer's circuits first."""
    from linewatch.alarms import service

    monkeypatch.setattr(service, "LIST_CIRCUITS_SHOWN", 1)
    [alarm_id] = post(client, alarm("CORE-1", "NE_DOWN", severity="critical"))["ids"]
    every = ["FZ-C001-DATA-1", "FZ-C001-VOICE-1", "FZ-C003-DATA-1"]

    def listed(**params: str) -> dict:  # type: ignore[type-arg]
        response = client.get("/api/v1/alarms", params=params, headers=ADMIN)
        assert response.status_code == 200, response.text
        [item] = response.json()["items"]
        return item  # type: ignore[no-any-return]

    plain = listed()
    assert plain["circuit_count"] == 3 and plain["circuits"] == ["FZ-C001-DATA-1"]
    assert plain["customers"] == ["C001"]
    for_c003 = listed(customer="C003")
    assert for_c003["circuits"] == ["FZ-C003-DATA-1"] and for_c003["customers"] == ["C003"]
    whole = client.get(f"/api/v1/alarms/{alarm_id}", headers=ADMIN).json()
    assert whole["circuits"] == every and whole["customers"] == ["C001", "C003"]
