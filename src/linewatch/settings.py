"""Runtime settings: every option also reads ``LINEWATCH_<OPTION>`` from the environment."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from linewatch.db.engine import DEFAULT_URL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LINEWATCH_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8080
    db: str = DEFAULT_URL
    policy: str | None = None
    snmp_port: int = 1162
    syslog_port: int = 1514
    snmp_community: str = "public"
    snmp_mapping: str | None = None  # YAML: other trap OIDs → alarm types
    syslog_rules: str | None = None  # YAML: extra syslog rules, tried before the shipped ones
    # NE types whose management IPs are pinged (e.g. "ROUTER,IAD"); empty = no active probes.
    # Off by default: probes send real ICMP to inventory addresses.
    probe_types: str = ""
    notify: str | None = None  # YAML: notification channels (SMPP, SMTP, webhooks, voice) and link_base
    clock: str = ""  # "manual" for tests and drills
    clock_start: str = ""  # RFC 3339: where the manual clock stands at start (default: the real time)
    admin_token: str | None = None
    max_upload_bytes: int = 256 * 1024 * 1024
    secure_cookies: bool = False  # set behind TLS
    tune_gc: bool = False  # `serve` and `demo` turn it on: freeze the start-up heap (core/runtime.py)
    # seconds a write waits for SQLite's lock / a PostgreSQL connection attempt before a 503
    db_timeout: float = 10.0
    # `serve`: dispatch, timers and notifications in a child process (worker.py), off the ingest core
    worker_process: bool = False
    # `serve`: the pipeline's rounds written by a child process (db/store.py), off the books' interpreter
    store_process: bool = False
    log_format: str = "text"  # "json": one JSON object per line (request and alarm ids, no secrets)
