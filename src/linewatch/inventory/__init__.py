"""Inventory (资源): regions, teams, staff, roster, customers, NEs, ports, circuits and routes."""
