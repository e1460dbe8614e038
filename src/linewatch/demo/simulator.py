"""The demo's live fault simulator: raises and clears believable faults on the generated city.

Runs on the real clock through the real pipeline (source ``demo-simulator``): mostly single
port faults (LOS, LINK_DOWN, ETH_LOS) that clear after a few minutes, now and then an ONU's
dying gasp, and rarely an aggregation node cut with consequent AIS on the NEs behind it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from linewatch.alarms.normalise import AlarmEvent
from linewatch.ingest.base import Sink
from linewatch.inventory.index import ImpactIndex

log = logging.getLogger("linewatch.demo")
SOURCE = "demo-simulator"


class FaultSimulator:
    name = "demo-simulator"

    def __init__(
        self,
        sink: Sink,
        index: Callable[[], ImpactIndex],
        now: Callable[[], datetime],
        *,
        seed: int = 7,
        interval_seconds: float = 8.0,
        max_active: int = 25,
    ) -> None:
        self.sink, self.index, self.now = sink, index, now
        self.rng = random.Random(seed)
        self.interval = interval_seconds
        self.max_active = max_active
        self.active: list[tuple[float, list[AlarmEvent]]] = []  # (clears at, the raises)
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.raised = 0

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="demo-simulator", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=10)

    def diagnostics(self) -> dict[str, Any]:
        return {"name": self.name, "raised": self.raised, "active": len(self.active)}

    def _run(self) -> None:
        elapsed = 0.0
        while not self.stopping.wait(self.interval):
            elapsed += self.interval
            try:
                self.step(elapsed)
            except Exception:  # the demo must keep going whatever one step hits
                log.exception("simulator step failed")

    def step(self, elapsed: float) -> None:
        """One tick: clear what is due, maybe raise something new."""
        due = [a for a in self.active if a[0] <= elapsed]
        self.active = [a for a in self.active if a[0] > elapsed]
        clears = [
            AlarmEvent(e.source, e.type, "cleared", self.now(), ne=e.ne, object=e.object)
            for _, events in due
            for e in events
        ]
        if clears:
            self.sink.accept(SOURCE, clears)
        if len(self.active) >= self.max_active or self.rng.random() < 0.3:
            return
        events = self._fault()
        if events:
            self.sink.accept(SOURCE, events)
            self.raised += 1
            self.active.append((elapsed + self.rng.uniform(60, 600), events))

    def _fault(self) -> list[AlarmEvent]:
        index = self.index()
        if not index.by_port:
            return []
        now = self.now()
        roll = self.rng.random()
        if roll < 0.05:  # an aggregation node cut: LOS on the node, AIS on NEs behind it
            aggregation = [
                n for n, name in index.ne_name.items() if "AGG" in name.upper() and n in index.by_ne
            ]
            if aggregation:
                node = self.rng.choice(sorted(aggregation))
                name = index.ne_name[node]
                events = [
                    AlarmEvent(SOURCE, "LOS", "critical", now, ne=name, text="光缆中断 fibre cut (demo)")
                ]
                circuits = {h.circuit_id for h in index.by_ne[node]}
                behind = sorted(
                    {
                        ne
                        for ne, hits in index.by_ne.items()
                        if ne != node and any(h.circuit_id in circuits for h in hits[:50])
                    }
                )[:20]
                events += [AlarmEvent(SOURCE, "MS_AIS", "major", now, ne=index.ne_name[ne]) for ne in behind]
                return events
        if roll < 0.20:  # an ONU dying gasp
            onus = [
                n for n, name in index.ne_name.items() if name.upper().startswith("ONU") and n in index.by_ne
            ]
            if onus:
                onu = self.rng.choice(sorted(onus))
                return [
                    AlarmEvent(
                        SOURCE,
                        "DYING_GASP",
                        "major",
                        now,
                        ne=index.ne_name[onu],
                        text="ONU 掉电 dying gasp (demo)",
                    )
                ]
        ne_id, port = self.rng.choice(sorted(index.by_port))
        kind = self.rng.choice(["LOS", "LINK_DOWN", "ETH_LOS", "LINK_DOWN"])
        return [
            AlarmEvent(
                SOURCE,
                kind,
                "critical" if kind == "LOS" else "major",
                now,
                ne=index.ne_name[ne_id],
                object=port,
                text=f"{kind} (demo)",
            )
        ]
