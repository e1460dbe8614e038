"""Trouble tickets (客响工单 / 派单): dispatch rules, customer reports, SLA clocks and escalation."""
