"""A warm process for short runs: ``govinfo serve`` imports Dagster, pandas and Great Expectations once, runs
one small report through the whole pipeline to load everything a run loads lazily, and then waits on a Unix
socket in DAGSTER_HOME. ``govinfo run`` looks for that socket first: when a server is listening, the run is
forked from the warm process instead of starting cold (importing GX alone takes ~3.5 s).

The client sends its arguments, working folder, environment and its own stdin, stdout and stderr (passed as
file descriptors, so the run writes straight to the client's terminal or pipes and sees whether it is a TTY).
Each request runs in a child forked for it, so one run's state and memory never reach the next, and a run
that crashes leaves the server standing. Ctrl-C on the client is passed to the run. A server started from
other code (a source file changed, another checkout, another Python) is stale: it says so and exits, and the
client runs cold. No Dagster or GX import here at module level: the client must stay light.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from govinfo_pipeline import settings

SOCKET_NAME = "govinfo-warm.sock"
_CHUNK = 1 << 16
serving = False  # True in a run forked by the server: its ``govinfo run`` must not forward to the server again


def socket_path(home: Path | None = None) -> Path:
    """The server's socket: in DAGSTER_HOME, or (a Unix socket path is at most ~100 bytes) in the temporary
    folder under a name taken from DAGSTER_HOME's path."""
    home = (home or settings.current().dagster_home).resolve()
    path = home / SOCKET_NAME
    if len(str(path).encode()) <= 100:
        return path
    return Path(tempfile.gettempdir()) / f"govinfo-warm-{hashlib.sha256(str(home).encode()).hexdigest()[:16]}.sock"


def fingerprint() -> str:
    """What the server's code is: this package's and its suites' files (name, size, mtime) and the Python."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(sys.executable.encode())
    files = [*package.rglob("*.py"), *package.rglob("*.yaml"), *(settings.project_root() / "expectations").glob("*")]
    for path in sorted(files):
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _send(conn: socket.socket, message: dict) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


class _Messages:
    """The newline-delimited JSON messages arriving on a socket, one at a time. A plain reader, not a generator:
    a Ctrl-C while it waits leaves it as it was, so the wait can go on."""

    def __init__(self, conn: socket.socket, first: bytes = b"") -> None:
        self.conn, self.buffer = conn, first

    def next(self) -> dict | None:
        """The next message; None when the other side has closed."""
        while b"\n" not in self.buffer:
            data = self.conn.recv(_CHUNK)
            if not data:
                return None
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        message: dict = json.loads(line)
        return message


# -- client --------------------------------------------------------------------------------------------


def forward(argv: list[str]) -> int | None:
    """Run ``govinfo <argv>`` in the warm server of this DAGSTER_HOME; its exit status, or None when there is
    no server to run it (none listening, or a stale one): the caller then runs it here."""
    if serving or not settings.current().warm:
        return None
    path = socket_path()
    if not path.exists():
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
    except OSError:  # a socket left behind by a server that is gone
        conn.close()
        return None
    with conn:
        request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "fingerprint": fingerprint()}
        try:
            socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
        except OSError:  # a stream of this process is closed: it cannot be handed over, so run here
            return None
        return _await_exit(conn)


def _await_exit(conn: socket.socket) -> int | None:
    """Wait for the run's exit status; Ctrl-C here is passed to the run, and the wait goes on while it stops."""
    pid, messages = None, _Messages(conn)
    while True:
        try:
            message = messages.next()
        except KeyboardInterrupt:  # the run stops as it would in this process, and says how it ended
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGINT)
            continue
        if message is None:
            print("govinfo: error: the warm process's run ended without an exit status", file=sys.stderr)
            return 1
        if message.get("stale"):
            print("govinfo: the warm server runs other code (it has stopped); running here", file=sys.stderr)
            return None
        pid = message.get("pid", pid)
        if "exit" in message:
            return int(message["exit"])


# -- server --------------------------------------------------------------------------------------------


def warm_up() -> float:
    """Import what a run imports and run one generated report through the pipeline, in a throwaway DAGSTER_HOME
    and warehouse, so that the runs forked later find it all loaded; the seconds it took."""
    from govinfo_pipeline import cli, launch
    from govinfo_pipeline.synth.generator import generate, write_reports

    started = time.perf_counter()
    import tqdm  # GX's progress bars (turned off) would still start tqdm's monitor thread: a fork must not have it

    tqdm.tqdm.monitor_interval = 0
    for module in launch.PRELOAD:
        __import__(module)
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="govinfo-warm-") as tmp:
        write_reports(Path(tmp) / "raw", generate(1, seed=0))
        os.environ.update({"DAGSTER_HOME": str(Path(tmp) / "home"), "GOVINFO_PROGRESS": "off"})
        try:
            with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
                code = cli.main(["run", "--input", str(Path(tmp) / "raw"), "--warehouse", f"duckdb:///{tmp}/w.duckdb"])
        finally:
            os.environ.clear()
            os.environ.update(saved)
    if code != 0:
        raise RuntimeError(f"the warm-up run failed with exit status {code}")
    return time.perf_counter() - started


def _run_child(request: dict, fds: list[int], conn: socket.socket) -> int:
    """In the forked child: become the client's process (its streams, folder, environment), run the command."""
    from govinfo_pipeline import cli

    global serving
    serving = True
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - the process's own streams
    sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    _send(conn, {"pid": os.getpid()})
    try:
        code = cli.main(request["argv"])
    except KeyboardInterrupt:
        code = 130
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 1
    sys.stdout.flush()
    sys.stderr.flush()
    _send(conn, {"exit": code})
    return code


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def serve(path: Path, log: Callable[[str], None]) -> int:
    """Warm up, then run each request in a child forked for it until stopped (SIGTERM, Ctrl-C), or until a
    request comes from other code (a stale server exits). The socket is removed on the way out."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with probe, contextlib.suppress(OSError):
        probe.connect(str(path))
        log(f"a warm server already listens on {path}")
        return 2
    seconds = warm_up()
    gc.collect()
    gc.freeze()  # the warm objects are left out of the children's collections, which would copy every page
    if threading.active_count() > 1:  # forking with other threads alive could deadlock a child
        log(f"warning: {threading.active_count() - 1} threads alive after warm-up")
    code = fingerprint()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(16)
    server.settimeout(1.0)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log(f"warm in {seconds:.1f} s; listening on {path} (pid {os.getpid()})")
    try:
        while _accept_one(server, code, log):
            _reap()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        path.unlink(missing_ok=True)
    return 0


def _accept_one(server: socket.socket, code: str, log: Callable[[str], None]) -> bool:
    """Serve one request if one comes within the accept timeout; False when the server must stop."""
    try:
        conn, _ = server.accept()
    except TimeoutError:
        return True
    conn.settimeout(None)
    data, fds, _, _ = socket.recv_fds(conn, _CHUNK, 3)
    request = _Messages(conn, data).next()
    if request is None or len(fds) != 3 or request.get("fingerprint") != code:
        for fd in fds:
            os.close(fd)
        stale = request is not None and request.get("fingerprint") != code
        if stale:
            _send(conn, {"stale": True})
            log("a request from other code (files changed since the warm-up): stopping")
        conn.close()  # a request without its three streams is dropped, and its client says so
        return not stale
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the server's loop
        status = 1
        try:
            server.close()
            status = _run_child(request, fds, conn)
        finally:
            os._exit(status if isinstance(status, int) and 0 <= status < 256 else 1)
    for fd in fds:
        os.close(fd)
    conn.close()
    log(f"pid {pid}: govinfo {' '.join(request['argv'])} (forked in {time.perf_counter() - started:.3f} s)")
    return True
