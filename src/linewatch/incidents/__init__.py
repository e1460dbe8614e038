"""Incidents (故障): alarms with one root cause, their impacted circuits and dispatch level."""
