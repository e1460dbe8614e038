"""Step 7 — statistics (DOMAIN 9): the monthly report, its rows, its Excel export."""
