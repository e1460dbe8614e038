"""Statistics for any period and filter, on the fixture month of test_monthly (hand-computed).

Recap of that month (see ``build_month``): F1 AGG-GL-1 (GL) 03-02 09:00-09:55 hits C001's VOICE-1
(down, voice, PTN) and DATA-1 (degraded), CT-A, cause fibre_cut; F2 OLT-TJ-1 (TJ) 03-10
14:00-17:00 downs C002's INT-1 (internet, PON, CT-B), cause equipment; F5 AGG-GL-2 (GL)
03-31 23:00 → 04-01 02:00 downs C003's DATA-1 (data, PTN, CT-A), no cause yet. F0 (February)
downed INT-1 until 03-01 01:00; F3 (planned) and F4 (drill) never count.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from linewatch.context import Context
from tests.conftest import ADMIN
from tests.reports.test_monthly import MONTH_MINUTES, build_month
from tests.tickets.helpers import token_for

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def stats(client: TestClient, headers: dict[str, str] = ADMIN, **params: Any) -> Any:
    response = client.get("/api/v1/reports/statistics", params={**MARCH, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def stat_rows(client: TestClient, view: str, key: str | None = None, **params: Any) -> list[dict[str, Any]]:
    query = {**MARCH, "view": view, **({"key": key} if key else {}), **params}
    response = client.get("/api/v1/reports/statistics/rows", params=query, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_month_of_statistics_is_the_monthly_report_plus_the_breakdowns(
    small: Context, client: TestClient
) -> None:
    build_month(small, client)
    got = stats(client)
    monthly = client.get("/api/v1/reports/monthly", params={"month": "2026-03"}, headers=ADMIN).json()
    assert monthly.pop("month") == "2026-03" and monthly.pop("period")["label"] == "2026-03"
    assert got.pop("period")["label"] == "2026-03-01..2026-03-31"
    assert monthly == got  # one computation, not two
    assert {k: v for k, v in got["trend"].items() if v} == {"2026-03-02": 1, "2026-03-10": 1, "2026-03-31": 1}
    assert len(got["trend"]) == 31  # every day of the month, zeros included
    # Timeouts by the reply cause of the late ticket: T1 (fibre_cut) missed contact; T1b (TRANS,
    # never worked) missed accept and contact; T5 (open, so "unknown") missed all but recover.
    assert got["timeout_reasons"] == {
        "accept": {"unknown": 2},
        "contact": {"fibre_cut": 1, "unknown": 2},
        "on_site": {"unknown": 1},
        "locate": {"unknown": 1},
        "recover": {},
    }
    # League over every counted deadline: CT-B's T2 met accept, contact, recover (3/3); CT-A's T1
    # met accept and recover, contact late (2/3); TRANS: T1b 1/3 (recover) + T5 1/5 (recover) = 2/8.
    assert [
        (r["rank"], r["team"], r["tickets"], r["sla_compliance"], r["breaches"])
        for r in got["contractor_league"]
    ] == [
        (1, "CT-B", 1, 1.0, 0),
        (2, "CT-A", 1, round(2 / 3, 6), 1),
        (3, "TRANS", 2, 0.25, 6),
    ]
    # Minutes from ticket to recovery: T2 14:00-17:00; T1 09:00-09:55; T1b 09:10-09:55 and T5 23:20-02:00.
    assert [r["mean_minutes_to_recover"] for r in got["contractor_league"]] == [180.0, 55.0, (45 + 160) / 2]
    assert got["top_nes"] == [{"key": n, "faults": 1} for n in ("AGG-GL-1", "AGG-GL-2", "OLT-TJ-1")]
    assert got["top_customers"] == [{"key": c, "faults": 1} for c in ("C001", "C002", "C003")]


def test_filters_by_hand(small: Context, client: TestClient) -> None:
    ids = build_month(small, client)
    gl = stats(client, region="GL")  # F1 and F5; F0/F2 are TJ's
    assert gl["faults"]["total"] == 2 and gl["faults"]["by_region"] == {"GL": 2}
    assert gl["mttr_minutes"] == (55 + 180) / 2
    # Down minutes of GL faults: VOICE-1 55, C003-DATA-1 60 (to midnight); GL customers' circuits: 3.
    assert gl["availability"]["overall"] == round(1 - (55 + 60) / (3 * MONTH_MINUTES), 6)
    assert gl["diagnosis_on_time_rate"] == 0.5  # F1 on time, F5 late
    assert gl["repeat_fault_rate"] == 0.0  # VOICE-1, DATA-1, C003-DATA-1: one fault each
    # Tickets of F1 and F5: T1 accepted in time, T1b and T5 late; none contacted in time.
    assert gl["sla_compliance"]["accept"] == round(1 / 3, 6) and gl["sla_compliance"]["contact"] == 0.0

    c002 = stats(client, customer="C002")  # F2 on INT-1; F0's March hour counts for availability
    assert c002["faults"]["total"] == 1 and c002["faults"]["by_cause"] == {"equipment": 1}
    assert c002["availability"] == {
        "overall": round(1 - 240 / MONTH_MINUTES, 6),
        "by_circuit": {"FZ-C002-INT-1": round(1 - 240 / MONTH_MINUTES, 6)},
    }
    assert c002["repeat_fault_rate"] == 1.0  # INT-1: F0 (02-28) and F2 (03-10) within 30 days
    assert c002["sla_compliance"]["contact"] == 1.0 and [r["team"] for r in c002["contractor_league"]] == [
        "CT-B"
    ]

    voice = stats(client, service_type="voice")  # only F1's VOICE-1 (DATA-1 is data)
    assert voice["faults"]["by_service_type"] == {"voice": 1}
    assert voice["availability"]["overall"] == round(1 - 55 / MONTH_MINUTES, 6)  # one voice circuit

    assert stats(client, access="PON")["faults"]["by_contractor"] == {"CT-B": 1}  # INT-1
    assert stats(client, contractor="CT-A")["faults"]["by_region"] == {"GL": 2}  # F1, F5
    fibre = stats(client, cause="fibre_cut")
    assert fibre["faults"]["total"] == 1 and fibre["mttr_minutes"] == 55.0
    assert stats(client, customer="C002", region="GL")["faults"]["total"] == 0

    # The rows behind a filtered number, and a period of a few days.
    assert [r["incident"] for r in stat_rows(client, "faults", region="GL")] == [ids["F1"], ids["F5"]]
    assert [r["incident"] for r in stat_rows(client, "trend", "2026-03-10")] == [ids["F2"]]
    assert [r["incident"] for r in stat_rows(client, "by_ne", "OLT-TJ-1")] == [ids["F2"]]
    assert [r["incident"] for r in stat_rows(client, "by_customer", "C001")] == [ids["F1"]]
    assert [r["ticket"] for r in stat_rows(client, "timeouts_contact", "fibre_cut")] == [ids["T1"]]
    assert [r["ticket"] for r in stat_rows(client, "league", "CT-B")] == [ids["T2"]]
    days = stats(client, **{"from": "2026-03-10", "to": "2026-03-12"})
    assert days["faults"]["total"] == 1 and list(days["trend"]) == ["2026-03-10", "2026-03-11", "2026-03-12"]
    # F2's 180 min plus F0's nothing (ended 03-01) over 3 days of the 4 circuits.
    assert days["availability"]["overall"] == round(1 - 180 / (4 * 3 * 1440), 6)


def test_bad_statistics_queries_are_named(small: Context, client: TestClient) -> None:
    for params, words in (
        ({"from": "2026-03-31", "to": "2026-03-01"}, "before"),
        ({"from": "March", "to": "2026-03-01"}, "from/to"),
        ({**MARCH, "service_type": "telepathy"}, "service_type"),
        ({**MARCH, "access": "carrier pigeon"}, "access"),
        ({**MARCH, "cause": "gremlins"}, "cause"),
        ({**MARCH, "format": "pdf"}, "format"),
    ):
        response = client.get("/api/v1/reports/statistics", params=params, headers=ADMIN)
        assert response.status_code == 400, (params, response.text)
        assert words in response.text
    missing = client.get("/api/v1/reports/statistics", params={"from": "2026-03-01"}, headers=ADMIN)
    assert missing.status_code in (400, 422)
    nope = client.get("/api/v1/reports/statistics/rows", params={**MARCH, "view": "nope"}, headers=ADMIN)
    assert nope.status_code == 404 and "by_region" in nope.text


def test_a_year_trends_by_month_and_exports(small: Context, client: TestClient) -> None:
    build_month(small, client)
    year = stats(client, **{"from": "2025-04", "to": "2026-03"})
    assert next(iter(year["trend"])) == "2025-04" and len(year["trend"]) == 12
    assert year["trend"]["2026-02"] == 1 and year["trend"]["2026-03"] == 3  # F0 opened in February
    response = client.get(
        "/api/v1/reports/statistics", params={**MARCH, "format": "xlsx", "region": "TJ"}, headers=ADMIN
    )
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert "linewatch-2026-03-01_2026-03-31.xlsx" in response.headers["content-disposition"]


def test_customer_scoped_readers_see_only_their_own_figures(small: Context, client: TestClient) -> None:
    ids = build_month(small, client)
    am02 = token_for(client, "AM02")  # account manager of C002 only
    mine = stats(client, am02)
    assert mine["faults"]["total"] == 1 and mine["top_customers"] == [{"key": "C002", "faults": 1}]
    assert mine["availability"]["by_circuit"] == {"FZ-C002-INT-1": round(1 - 240 / MONTH_MINUTES, 6)}
    assert stats(client, am02, customer="C001")["faults"]["total"] == 0  # a filter cannot widen the scope
    monthly = client.get("/api/v1/reports/monthly", params={"month": "2026-03"}, headers=am02).json()
    assert monthly["faults"]["by_region"] == {"TJ": 1}
    rows = client.get(
        "/api/v1/reports/monthly/rows", params={"month": "2026-03", "view": "faults"}, headers=am02
    ).json()["items"]
    assert [r["incident"] for r in rows] == [ids["F2"]]

    am01 = stats(client, token_for(client, "AM01"))  # C001 and C003: F1 and F5
    assert am01["faults"]["total"] == 2 and am01["faults"]["by_region"] == {"GL": 2}

    ct_a = stats(client, token_for(client, "CA01"))  # contractor CT-A: its circuits, its own tickets
    assert ct_a["faults"]["by_contractor"] == {"CT-A": 2}
    assert [r["team"] for r in ct_a["contractor_league"]] == ["CT-A"]
    assert (
        client.get("/api/v1/reports/statistics", params=MARCH, headers=token_for(client, "E01")).status_code
        == 403
    )
