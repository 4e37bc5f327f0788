"""The standby's /healthz: answers while the replica waits, and frees the port for kopf."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

from ferry.observability.health import StandbyHealth


def test_standby_answers_healthz_then_hands_the_port_over() -> None:
    health = StandbyHealth(0, "127.0.0.1").start()
    port = health.port
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        assert response.status == 200
        assert b"standby" in response.read()
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert missing.value.code == 404

    health.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
    # kopf's server (asyncio, SO_REUSEADDR) can listen on the same port right away.
    successor = socket.socket()
    successor.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        successor.bind(("127.0.0.1", port))
        successor.listen()
    finally:
        successor.close()
