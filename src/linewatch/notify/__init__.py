"""Step 4 — notifications: requests → recipients → storm control → durable outbox → channels."""
