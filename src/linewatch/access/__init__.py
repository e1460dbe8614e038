"""Access: users and roles, bearer and ingest tokens, web sessions, the append-only audit log."""
