"""Free TCP ports for the tests' servers, each handed out once per test process."""

from __future__ import annotations

import socket
import threading

_handed_out: set[int] = set()
_lock = threading.Lock()


def free_port() -> int:
    """A port nothing listens on now and this process has not handed out before.

    The kernel may give the same free port to two binds in a row once the first socket is
    closed; a Ray node asked for five ports at once then got one twice.
    """
    with _lock:
        while True:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
            if port not in _handed_out:
                _handed_out.add(port)
                return port
