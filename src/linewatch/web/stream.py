"""Live updates for the browser: Server-Sent Events fed from the in-process bus.

The bus publishes from worker threads (the pipeline writer, request threads); :class:`LiveHub`
turns each publication into a numbered event kept in a bounded ring, and wakes the waiting
streams on their event loop. A client that reconnects with ``Last-Event-ID`` gets every event it
missed that the ring still holds; if the ring has moved past it, or the id is from before a server
restart (ids start again at 1), a ``resync`` event tells it to reload its snapshot. Events carry
ids and kinds only: the pages read the data through the scoped API, so what a role may see is
decided there (restricted roles get the kinds without the ids).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import StreamingResponse

from linewatch.api.deps import user_actor
from linewatch.api.errors import ERROR_RESPONSES
from linewatch.context import Context
from linewatch.core.actor import Actor
from linewatch.pipeline import ALARMS_STORED, INCIDENTS_CHANGED, StoredAlarms

ALARMS_ACKED = "alarms.acked"
RING_SIZE = 2000
HEARTBEAT_SECONDS = 15.0
# Roles that read every incident; others get the event kinds only and re-read through the API.
WIDE_ROLES = {"admin", "dispatcher", "support", "engineer", "fault_manager", "manager_l3", "leader"}

router = APIRouter(prefix="/api/v1", tags=["live"], responses=ERROR_RESPONSES)


@dataclass(frozen=True)
class LiveEvent:
    id: int
    name: str
    data: dict[str, Any]

    def frame(self, wide: bool) -> str:
        data = self.data if wide else {"kind": self.data.get("kind", self.name)}
        return f"id: {self.id}\nevent: {self.name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class LiveHub:
    """A numbered ring of recent events and the streams waiting for the next one."""

    def __init__(self, size: int = RING_SIZE) -> None:
        self.ring: deque[LiveEvent] = deque(maxlen=size)
        self.next_id = 1
        self.lock = threading.Lock()
        self.waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @classmethod
    def attach(cls, ctx: Context) -> LiveHub:
        hub = cls()
        ctx.bus.subscribe(INCIDENTS_CHANGED, hub.on_incidents)
        ctx.bus.subscribe(ALARMS_STORED, hub.on_alarms)
        ctx.bus.subscribe(ALARMS_ACKED, hub.on_acked)
        return hub

    # ---------------------------------------------------------------- publishing (any thread)
    def add(self, name: str, data: dict[str, Any]) -> LiveEvent:
        with self.lock:
            event = LiveEvent(self.next_id, name, data)
            self.next_id += 1
            self.ring.append(event)
            waiters = list(self.waiters)
        for loop, flag in waiters:
            with contextlib.suppress(RuntimeError):  # that loop has closed; its stream is gone
                loop.call_soon_threadsafe(flag.set)
        return event

    def on_incidents(self, changes: Any) -> None:
        items = [
            {"kind": c.kind, "incident_id": c.incident_id, "level": c.level, "at": c.at.isoformat()}
            for c in changes
        ]
        self.add("incidents", {"kind": "incidents", "changes": items})

    def on_alarms(self, stored: StoredAlarms) -> None:
        # the incidents too: a wall re-reads just those instead of everything (decision 100)
        self.add("alarms", {"kind": "alarms", "ids": stored.alarm_ids, "incidents": stored.incident_ids})

    def on_acked(self, payload: Any) -> None:
        self.add("ack", {"kind": "ack", **dict(payload)})

    # ---------------------------------------------------------------- reading (event loop)
    def since(self, last: int | None) -> tuple[list[LiveEvent], bool]:
        """Events after ``last``, and whether some were lost (the ring moved past them)."""
        with self.lock:
            if last is None:
                return [], False
            if last > self.next_id - 1:  # an id this hub never gave: the server restarted since
                return list(self.ring), True
            events = [e for e in self.ring if e.id > last]
            oldest = self.ring[0].id if self.ring else self.next_id
            lost = last + 1 < oldest and last < self.next_id - 1
            return events, lost

    @property
    def last_id(self) -> int:
        with self.lock:
            return self.next_id - 1


def install(app: FastAPI, ctx: Context) -> None:
    """Create the hub for this app's context and serve the stream."""
    app.state.live = LiveHub.attach(ctx)
    app.include_router(router)


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    if raw and raw.strip().isdigit():
        return int(raw.strip())
    return None


@router.get("/stream")
async def stream(request: Request, actor: Actor = Depends(user_actor)) -> StreamingResponse:
    """SSE: ``incidents``, ``alarms`` and ``ack`` events with ids; ``Last-Event-ID`` replays."""
    hub: LiveHub = request.app.state.live
    wide = actor.is_admin or actor.role in WIDE_ROLES
    last = _last_event_id(request)

    async def frames() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        flag = asyncio.Event()
        waiter = (loop, flag)
        with hub.lock:
            hub.waiters.add(waiter)
        try:
            cursor = last if last is not None else hub.last_id
            yield "retry: 1500\n"
            hello = {"last_id": hub.last_id, "resumed": last is not None}
            # the hello carries the cursor as its id, so that the browser's own reconnect sends
            # Last-Event-ID even when no event has come yet (else it would resync needlessly)
            yield f"id: {cursor}\nevent: hello\ndata: {json.dumps(hello)}\n\n"
            while True:
                flag.clear()
                events, lost = hub.since(cursor)
                if lost:
                    yield f"event: resync\ndata: {json.dumps({'kind': 'resync'})}\n\n"
                for event in events:
                    yield event.frame(wide)
                    cursor = event.id
                if await request.is_disconnected():
                    return
                try:
                    await asyncio.wait_for(flag.wait(), timeout=HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": heartbeat\n\n"
        finally:
            with hub.lock:
                hub.waiters.discard(waiter)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(frames(), media_type="text/event-stream", headers=headers)
