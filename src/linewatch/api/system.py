"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import func, select, text

from linewatch.alarms.models import AlarmRecord, RejectedItem
from linewatch.api.deps import get_ctx
from linewatch.context import Context
from linewatch.db.timers import Timer
from linewatch.incidents.models import IncidentRecord
from linewatch.notify import service as notify_service

router = APIRouter(tags=["system"])


@router.get("/readyz")
def readiness(ctx: Context = Depends(get_ctx)) -> JSONResponse:
    """Ready = the database answers, the pipeline writer runs (its last transaction did not fail)
    every listener serves and (with `--worker-process`) the worker process runs; 503 names what is not."""
    checks: dict[str, object] = {}
    try:
        with ctx.db.reading() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not ready"; the reason is shown
        checks["database"] = f"error: {type(exc).__name__}"
    pipeline = ctx.pipeline
    checks["pipeline"] = (
        "not running" if not pipeline.running else "storage failing" if not pipeline.storage_ok else "ok"
    )
    listeners = {listener.name: "ok" if listener.running else "down" for listener in ctx.listeners}
    checks["listeners"] = listeners
    ready = checks["database"] == "ok" and checks["pipeline"] == "ok" and "down" not in listeners.values()
    if ctx.worker is not None:  # `serve --worker-process`: dispatch and notifications live there
        checks["worker"] = "ok" if ctx.worker.running else "down"
        ready = ready and ctx.worker.running
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


def _line(name: str, value: float, labels: dict[str, str] | None = None) -> str:
    if labels:
        inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
        return f"{name}{{{inner}}} {value}"
    return f"{name} {value}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(ctx: Context = Depends(get_ctx)) -> PlainTextResponse:
    """Prometheus text format: ingest rates, queue depth, processing time, state counts, listeners."""
    p = ctx.pipeline
    out = [
        "# TYPE linewatch_ingest_events_total counter",
        *(_line("linewatch_ingest_events_total", n, {"channel": c}) for c, n in sorted(p.by_channel.items())),
        "# TYPE linewatch_pipeline_transactions_total counter",
        _line("linewatch_pipeline_transactions_total", p.stats["transactions"]),
        "# TYPE linewatch_pipeline_failures_total counter",
        _line("linewatch_pipeline_failures_total", p.stats["failures"]),
        "# TYPE linewatch_pipeline_queue_depth gauge",
        _line("linewatch_pipeline_queue_depth", p.queue_depth),
        "# TYPE linewatch_pipeline_last_commit_seconds gauge",
        _line("linewatch_pipeline_last_commit_seconds", round(p.last_commit_seconds, 6)),
        "# TYPE linewatch_active_alarms gauge",
        _line("linewatch_active_alarms", len(p.alarms.active)),
        "# TYPE linewatch_open_incidents gauge",
    ]
    levels: dict[str, int] = {}
    for incident in p.incidents.open.values():
        levels[incident.level.value] = levels.get(incident.level.value, 0) + 1
    out += [_line("linewatch_open_incidents", n, {"level": lvl}) for lvl, n in sorted(levels.items())]
    with ctx.db.reading() as session:
        rejected = session.execute(
            select(RejectedItem.channel, func.count()).group_by(RejectedItem.channel)
        ).all()
        stored = session.scalar(select(func.count()).select_from(AlarmRecord)) or 0
        incidents = session.scalar(select(func.count()).select_from(IncidentRecord)) or 0
    out += ["# TYPE linewatch_ingest_rejected_total counter"]
    out += [_line("linewatch_ingest_rejected_total", n, {"channel": c}) for c, n in rejected]
    out += [
        "# TYPE linewatch_alarms_stored gauge",
        _line("linewatch_alarms_stored", stored),
        "# TYPE linewatch_incidents_stored gauge",
        _line("linewatch_incidents_stored", incidents),
    ]
    out += ["# TYPE linewatch_listener gauge"]
    for listener in ctx.listeners:
        for key, value in listener.diagnostics().items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                out.append(_line("linewatch_listener", value, {"listener": listener.name, "counter": key}))
            elif isinstance(value, dict):
                for sub, n in value.items():
                    if isinstance(n, int | float) and not isinstance(n, bool):
                        out.append(
                            _line(
                                "linewatch_listener",
                                n,
                                {"listener": listener.name, "counter": f"{key}.{sub}"},
                            )
                        )
    out += notify_metrics(ctx)
    out += operations_metrics(ctx)
    return PlainTextResponse("\n".join(out) + "\n", media_type="text/plain; version=0.0.4")


def notify_metrics(ctx: Context) -> list[str]:
    """Notifications: outcomes by channel since start (the worker's counters), and the outbox now —
    rows by status and channel, the backlog (queued + deferred), the oldest queued row's age and
    the requests not yet expanded."""
    now = ctx.clock.now()
    with ctx.db.reading() as session:
        outbox = notify_service.outbox_gauges(session, now)
    out = ["# TYPE linewatch_notify_total counter"]
    out += [
        _line("linewatch_notify_total", n, {"outcome": outcome, "channel": channel})
        for (outcome, channel), n in sorted(ctx.notify_counts().items())
    ]
    out += ["# TYPE linewatch_notify_outbox gauge"]
    out += [
        _line("linewatch_notify_outbox", n, {"status": status, "channel": channel})
        for (status, channel), n in sorted(outbox.by_status.items())
    ]
    return [
        *out,
        "# TYPE linewatch_notify_outbox_depth gauge",
        _line("linewatch_notify_outbox_depth", outbox.depth),
        "# TYPE linewatch_notify_oldest_queued_seconds gauge",
        _line("linewatch_notify_oldest_queued_seconds", outbox.oldest_queued_seconds),
        "# TYPE linewatch_notify_requests_pending gauge",
        _line("linewatch_notify_requests_pending", outbox.requests_pending),
    ]


def operations_metrics(ctx: Context) -> list[str]:
    """Rates, queue depths and lags of ingest, the pipeline, downstream and the timers: is work piling
    up anywhere? (The outbox's depth and age are in notify_metrics.)"""
    p, now = ctx.pipeline, ctx.clock.now()
    dispatch_queued, dispatch_retrying = ctx.downstream_depths()
    out = ["# TYPE linewatch_ingest_events_per_second gauge"]
    out += [
        _line("linewatch_ingest_events_per_second", round(rate, 3), {"channel": c})
        for c, rate in sorted(p.rates.rates().items())
    ]
    out += [
        "# TYPE linewatch_pipeline_lag_seconds gauge",
        _line("linewatch_pipeline_lag_seconds", round(p.lag_seconds, 6)),
        "# TYPE linewatch_queue_depth gauge",
        _line("linewatch_queue_depth", p.queue_depth, {"queue": "pipeline"}),
        _line("linewatch_queue_depth", dispatch_queued, {"queue": "downstream"}),
        _line("linewatch_queue_depth", dispatch_retrying, {"queue": "downstream_retry"}),
    ]
    if ctx.worker is not None:  # the worker process: restarts, changes not yet forwarded, report age
        out += ["# TYPE linewatch_worker gauge"]
        out += [
            _line("linewatch_worker", value, {"counter": key})
            for key, value in ctx.worker.diagnostics().items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        ]
    with ctx.db.reading() as session:
        timers_due = session.execute(
            select(func.count(), func.min(Timer.due_at)).where(Timer.fired_at.is_(None), Timer.due_at <= now)
        ).one()
    out += [
        _line("linewatch_queue_depth", timers_due[0] or 0, {"queue": "timers_due"}),
        "# TYPE linewatch_lag_seconds gauge",
        _line("linewatch_lag_seconds", _age(now, timers_due[1]), {"stage": "timers"}),
    ]
    return out


def _age(now: datetime, since: datetime | None) -> float:
    """How long the oldest waiting item has waited (0 when none waits)."""
    return 0.0 if since is None else max(0.0, round((now - since).total_seconds(), 3))
