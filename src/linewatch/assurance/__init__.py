"""重保: major-event assurance periods (DOMAIN 7)."""
