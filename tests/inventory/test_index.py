"""The impact index answers NE/port/platform → circuits by lookup, on both databases."""

from __future__ import annotations

from linewatch.context import Context
from linewatch.inventory.index import RouteHit


def codes(ctx: Context, hits: list[RouteHit]) -> set[tuple[str, str]]:
    return {(ctx.index.circuit_code[h.circuit_id], h.route) for h in hits}


def test_ne_port_and_platform_lookups(small: Context) -> None:
    index = small.index
    acc = index.resolve_ne("ACC-GL-1")
    assert acc is not None
    assert codes(small, index.hits(acc)) == {
        ("FZ-C001-DATA-1", "primary"),
        ("FZ-C001-DATA-1", "backup"),
        ("FZ-C001-VOICE-1", "primary"),
    }
    # port names match case-insensitively; only the circuits on that port
    assert codes(small, index.hits(acc, "ge0/2/2")) == {("FZ-C001-DATA-1", "backup")}
    assert index.hits(acc, "GE9/9/9") == []
    ngn = index.resolve_ne("NGN-1")
    assert ngn is not None
    assert [index.circuit_code[c] for c in index.platform_dependants(ngn)] == ["FZ-C001-VOICE-1"]


def test_ne_resolves_by_management_ip(small: Context) -> None:
    assert small.index.resolve_ne(ip="10.0.3.1") == small.index.resolve_ne("OLT-TJ-1")
    assert small.index.resolve_ne(name="nope", ip="10.9.9.9") is None


def test_port_names_match_as_devices_print_them(small: Context) -> None:
    index = small.index
    acc = index.resolve_ne("ACC-GL-1")
    assert acc is not None
    for printed in ("GigabitEthernet0/2/2", "gigabitethernet 0/2/2", "Gi0/2/2", "ge0/2/2"):
        assert codes(small, index.hits(acc, printed)) == {("FZ-C001-DATA-1", "backup")}, printed
    assert codes(small, index.hits(acc, "ifIndex:202")) == {
        ("FZ-C001-DATA-1", "backup")
    }  # ports.csv if_index


def test_ne_names_resolve_case_insensitively_and_by_fqdn(small: Context) -> None:
    index = small.index
    assert index.resolve_ne("acc-gl-1") == index.resolve_ne("ACC-GL-1")
    assert index.resolve_ne("ACC-GL-1.noc.example.net") == index.resolve_ne("ACC-GL-1")
