"""Real peers for the channel tests: an HTTP receiver (http.server), an SMTP server (aiosmtpd)
and an SMSC (Perl's Net::SMPP in server mode, driven by smsc.pl)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Records every POST; answers ``status`` with ``answer`` (JSON)."""

    status: int = 200
    answer: dict[str, Any] = field(default_factory=lambda: {"errcode": 0, "call_id": "C1"})
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(Received(self.path, dict(self.headers), body))
                data = json.dumps(receiver.answer).encode()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Smsc:
    """Net::SMPP as the SMSC. ``submits`` are parsed from its log lines."""

    def __init__(self, mode: str = "ok") -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["perl", str(HERE / "smsc.pl"), str(self.port), mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "READY"
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def submits(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.lines) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        out = []
        for line in self.lines:
            _, ident, dest, coding, esm, hexdata = line.split(" ")
            out.append(
                {
                    "id": ident,
                    "to": dest,
                    "coding": int(coding),
                    "esm": int(esm),
                    "data": bytes.fromhex(hexdata),
                }
            )
        return out

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=5)


def smsc_available() -> bool:
    if shutil.which("perl") is None:
        return False
    return subprocess.run(["perl", "-MNet::SMPP", "-e", "1"], capture_output=True).returncode == 0
