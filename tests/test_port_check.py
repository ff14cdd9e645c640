"""`ppb up`'s check of PPB_HTTP_PORT binds as the server will: connections of an earlier run
left in TIME-WAIT do not stop a new start, a listener does (on that address or on every one)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ppb.ingress import PortTaken, check_http_port

TIME_WAIT = "06"


def sockets_in_time_wait(port: int) -> int:
    """TCP sockets in TIME-WAIT whose local port is `port` (from /proc/net/tcp)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == TIME_WAIT and int(fields[1].rsplit(":", 1)[1], 16) == port:
            count += 1
    return count


def leave_time_wait() -> int:
    """A port whose listener is gone, with a connection it accepted and closed first: that
    side of the connection stays in TIME-WAIT for a minute, as after a stopped server."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()  # the server side closes first: its end goes to TIME-WAIT
        assert client.recv(1) == b""
        client.close()
    return port


def test_a_port_held_only_by_time_wait_sockets_passes_the_check() -> None:
    port = leave_time_wait()
    assert sockets_in_time_wait(port) >= 1, "the setup should leave a TIME-WAIT socket on the port"
    check_http_port("127.0.0.1", port)  # no PortTaken
    check_http_port("0.0.0.0", port)


@pytest.mark.parametrize("listen_on", ["127.0.0.1", "0.0.0.0"])
def test_a_listener_still_fails_the_check(listen_on: str) -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((listen_on, 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(PortTaken, match=f"port {port} on 127.0.0.1 is taken"):
            check_http_port("127.0.0.1", port)
