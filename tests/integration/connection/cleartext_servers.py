"""Fake database servers that ask for the password in clear text and record every byte they get.

Each speaks just enough of its protocol to reach the point where a real server using
PostgreSQL's `password` method, or MySQL's `mysql_clear_password` / MariaDB's `dialog` (PAM)
plugin, asks for the password — which is also what a host an attacker controls would do. The
tests then look for the password in what the server received.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType

# PostgreSQL: the request codes a client may send before its StartupMessage.
_SSL_REQUEST, _GSSENC_REQUEST = 80877103, 80877104
_AUTH_CLEARTEXT_PASSWORD = 3

# MySQL capability flags of the fake handshake (no CLIENT_SSL: the server offers no TLS).
_CAPABILITIES = (
    0x1 | 0x2 | 0x4 | 0x8  # long password, found rows, long flag, connect with db
    | 0x200 | 0x2000 | 0x8000  # protocol 41, transactions, secure connection
    | 0x20000 | 0x80000  # multi results, plugin auth
)  # fmt: skip


class _Conn:
    """One accepted socket whose received bytes are appended to the server's record."""

    def __init__(self, sock: socket.socket, record: bytearray) -> None:
        self.sock, self.record = sock, record

    def recv_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            self.record.extend(chunk)
            data += chunk
        return data

    def drain(self) -> None:
        """Record whatever else the client sends until it closes or goes quiet."""
        self.sock.settimeout(2)
        try:
            while chunk := self.sock.recv(4096):
                self.record.extend(chunk)
        except OSError:
            pass


class RecordingServer:
    """A TCP server on 127.0.0.1 that runs `talk` for each connection and records what arrives."""

    def __init__(self, talk: Callable[[_Conn], None]) -> None:
        self._talk = talk
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self.received = bytearray()
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                continue
            self.connections += 1
            sock.settimeout(5)  # a client that stops talking without hanging up (asyncmy after a refusal)
            # EOFError/OSError: the client hung up; what it sent is recorded.
            with sock, contextlib.suppress(EOFError, OSError):
                self._talk(_Conn(sock, self.received))


def postgres_cleartext(conn: _Conn) -> None:
    """Refuse TLS and GSSAPI encryption, read the StartupMessage, ask for a clear-text password."""
    while True:
        length, code = struct.unpack("!ii", conn.recv_exact(8))
        conn.recv_exact(length - 8)
        if code in (_SSL_REQUEST, _GSSENC_REQUEST):
            conn.sock.sendall(b"N")
            continue
        break  # the StartupMessage (protocol 3.0)
    conn.sock.sendall(b"R" + struct.pack("!ii", 8, _AUTH_CLEARTEXT_PASSWORD))
    # A client that answers sends a PasswordMessage ('p'); refuse the login afterwards.
    message = b"SFATAL\0C28P01\0Mpassword authentication failed\0\0"
    try:
        if conn.recv_exact(1) == b"p":
            (length,) = struct.unpack("!i", conn.recv_exact(4))
            conn.recv_exact(length - 4)
            conn.sock.sendall(b"E" + struct.pack("!i", len(message) + 4) + message)
    finally:
        conn.drain()


def _mysql_packet(seq: int, payload: bytes) -> bytes:
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def _read_mysql_packet(conn: _Conn) -> tuple[int, bytes]:
    header = conn.recv_exact(4)
    length = int.from_bytes(header[:3], "little")
    return header[3], conn.recv_exact(length)


def mysql_cleartext(plugin: str) -> Callable[[_Conn], None]:
    """A MySQL handshake (mysql_native_password first) followed by an auth switch to `plugin`
    (`mysql_clear_password`, or `dialog` with MariaDB PAM's "Password: " prompt)."""

    def talk(conn: _Conn) -> None:
        salt = b"abcdefgh" + b"ijklmnopqrst"
        handshake = (
            b"\x0a" + b"8.0.99-fake\0" + struct.pack("<I", 7) + salt[:8] + b"\0"
            + struct.pack("<H", _CAPABILITIES & 0xFFFF) + b"\x21" + struct.pack("<H", 2)
            + struct.pack("<H", _CAPABILITIES >> 16) + bytes([21]) + b"\0" * 10
            + salt[8:] + b"\0" + b"mysql_native_password\0"
        )  # fmt: skip
        conn.sock.sendall(_mysql_packet(0, handshake))
        seq, _response = _read_mysql_packet(conn)
        data = b"\x05Password: " if plugin == "dialog" else b""
        conn.sock.sendall(_mysql_packet(seq + 1, b"\xfe" + plugin.encode() + b"\0" + data))
        try:
            seq, _answer = _read_mysql_packet(conn)
            error = b"\xff" + struct.pack("<H", 1045) + b"#28000Access denied"
            conn.sock.sendall(_mysql_packet(seq + 1, error))
        finally:
            conn.drain()

    return talk
