"""Storage: the SQLAlchemy base, engine set-up, unit of work and Alembic migrations."""
