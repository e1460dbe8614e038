"""割接: planned cutovers, their customer notices, planned alarms and the six answering rules (DOMAIN 6)."""
