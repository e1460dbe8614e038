"""The import format (INTERFACES "Inventory import"): tables, their columns and required ones.

The first column is the key re-imports upsert by. ``ports`` and ``roster`` are Linewatch
additions around the contract (optional files).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]


def _spec(name: str, columns: str, required: str) -> TableSpec:
    return TableSpec(name, tuple(columns.split()), tuple(required.split()))


# In dependency order: a table refers only to tables above it.
TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        _spec("regions", "code name", "code name"),
        _spec("teams", "code name kind regions", "code name kind"),
        _spec("staff", "code name phone email team role language", "code name role"),
        _spec("roster", "staff duty starts_at ends_at", "staff duty starts_at ends_at"),
        _spec(
            "customers",
            "code name level grade industry region account_manager hq_address contact_name contact_phone",
            "code name level grade",
        ),
        _spec("network_elements", "name type vendor ems site region mgmt_ip parent parent_port", "name type"),
        _spec("ports", "ne port if_index", "ne port"),
        _spec(
            "circuits",
            "code customer service_type bandwidth_mbps access site_role a_end z_end assurance maintainer "
            "handed_over platform in_service",
            "code customer service_type access site_role assurance",
        ),
        _spec("routes", "circuit route seq ne port", "circuit route seq ne"),
    )
}
