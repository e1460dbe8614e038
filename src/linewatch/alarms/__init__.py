"""Alarms (告警): normalisation of every source, dedup and clear, flapping, matching to circuits."""
