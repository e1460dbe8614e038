"""Inventory tables. Keys operators use (codes, NE names) are unique; ids are internal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from linewatch.db.base import Base, UtcDateTime

team_region = Table(
    "team_region",
    Base.metadata,
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("region.id", ondelete="CASCADE"), primary_key=True),
)


class Region(Base):
    """区域 / 区县分公司."""

    __tablename__ = "region"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Team(Base):
    """班组 or 代维公司 (kind=contractor), with the regions it covers."""

    __tablename__ = "team"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    regions: Mapped[list[Region]] = relationship(secondary=team_region, lazy="selectin")


class Staff(Base):
    """A person: phone, team, role (DOMAIN 1)."""

    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), default="zh")


class RosterShift(Base):
    """值班表: who is on duty, as what, from when to when."""

    __tablename__ = "roster_shift"
    __table_args__ = (
        UniqueConstraint("staff_id", "starts_at", name="uq_roster_shift_staff_start"),
        Index("ix_roster_shift_window", "starts_at", "ends_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    duty: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Customer(Base):
    """集团客户 with its level (集团级别) and service grade (客户服务等级)."""

    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(32))
    grade: Mapped[str] = mapped_column(String(32))
    industry: Mapped[str] = mapped_column(String(100), default="")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    account_manager_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    hq_address: Mapped[str] = mapped_column(String(500), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(64), default="")


class NetworkElement(Base):
    """网元: transmission/access gear, customer premises equipment or a service platform."""

    __tablename__ = "network_element"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    vendor: Mapped[str] = mapped_column(String(100), default="")
    ems: Mapped[str] = mapped_column(String(100), default="")
    site: Mapped[str] = mapped_column(String(300), default="")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    mgmt_ip: Mapped[str | None] = mapped_column(String(64), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("network_element.id"), index=True)
    parent_port: Mapped[str] = mapped_column(String(200), default="")


class Port(Base):
    """端口: an NE's port, by name (and ifIndex where the EMS reports one)."""

    __tablename__ = "port"
    __table_args__ = (UniqueConstraint("ne_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ne_id: Mapped[int] = mapped_column(ForeignKey("network_element.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    if_index: Mapped[int | None] = mapped_column(Integer)


class Circuit(Base):
    """专线业务: a customer's circuit (电路代号), with up to two routes and an optional platform."""

    __tablename__ = "circuit"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    service_type: Mapped[str] = mapped_column(String(16))
    bandwidth_mbps: Mapped[int | None] = mapped_column(Integer)
    access: Mapped[str] = mapped_column(String(16))
    site_role: Mapped[str] = mapped_column(String(16))
    a_end: Mapped[str] = mapped_column(String(500), default="")
    z_end: Mapped[str] = mapped_column(String(500), default="")
    assurance: Mapped[str] = mapped_column(String(16))
    maintainer_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    handed_over: Mapped[bool] = mapped_column(Boolean, default=True)
    in_service: Mapped[bool] = mapped_column(Boolean, default=True)
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("network_element.id"), index=True)


class Route(Base):
    """A circuit's primary or backup route (双路由)."""

    __tablename__ = "route"
    __table_args__ = (UniqueConstraint("circuit_id", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    circuit_id: Mapped[int] = mapped_column(ForeignKey("circuit.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))


class RouteHop(Base):
    """One hop of a route: an NE and, where known, the port. Indexed by NE for impact lookup."""

    __tablename__ = "route_hop"
    __table_args__ = (
        UniqueConstraint("route_id", "seq"),
        Index("ix_route_hop_ne_port", "ne_id", "port_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("route.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    ne_id: Mapped[int] = mapped_column(ForeignKey("network_element.id"))
    port_id: Mapped[int | None] = mapped_column(ForeignKey("port.id"))
