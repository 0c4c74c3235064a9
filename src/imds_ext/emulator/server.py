"""Server lifecycle: TLS, the background HTTPS server thread, the env file, the state file, run_forever."""
from __future__ import annotations

import logging
import os
import shlex
import shutil
import signal
import ssl
import tempfile
import threading
import time
from contextlib import contextmanager
from typing import Callable, Optional

from cheroot import server as cheroot_server, wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from cheroot.workers import threadpool

from imds_ext.emulator.app import SOCKET_ENVIRON_KEY, EmulatorApp
from imds_ext.emulator.constants import (
    WELL_KNOWN_CLIENT_ID, WELL_KNOWN_CLIENT_SECRET, WELL_KNOWN_SUBSCRIPTION_ID, WELL_KNOWN_TENANT_ID,
)
from imds_ext.emulator.backend import Backend
from imds_ext.emulator.errors import StartError
from imds_ext.emulator.tls import Certificates

log = logging.getLogger(__name__)
_THREADS = 48  # worker threads at start; idle connections wait in cheroot's selector, not in a worker
_MAX_THREADS = 512  # the pool grows while clients that are slow to send hold workers, up to this
_MAX_IDLE_CONNECTIONS = 1024  # connections waiting in the selector (cheroot's keep-alive limit; its default is 10)
_BACKLOG = 128  # connections the kernel queues before accept: 32 clients at once must not wait for a SYN retry
_HANDSHAKE_SECONDS = 5.0  # a client that has not finished its TLS handshake by then is dropped
_DISCARD_SECONDS = 10.0  # how long the rest of a refused (413) body is read and dropped, at most
_LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class _Gateway(wsgi.Gateway_10):
    """cheroot's WSGI gateway, also handing the app the connection's socket (for the dropped-connection fault)."""

    def get_environ(self):
        environ = super().get_environ()
        environ[SOCKET_ENVIRON_KEY] = self.req.conn.socket
        return environ


class _DeferredHandshake(BuiltinSSLAdapter):
    """cheroot's TLS, but the handshake is not done where cheroot wraps the socket (its accept loop, where one
    client that connects and sends nothing stalls every other for the socket timeout): _Connection does it in a
    worker, once the client has spoken, within _HANDSHAKE_SECONDS."""

    def wrap(self, sock):
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), {}


class _Request(cheroot_server.HTTPRequest):
    def respond(self):
        super().respond()
        if self.status[:3] == b"413" and self.close_connection:
            self._discard_body()

    def _discard_body(self) -> None:
        """After a 413 the client may still be sending the body it announced: read and drop it (for
        _DISCARD_SECONDS at most), so that it reads the answer instead of a reset connection."""
        deadline = time.monotonic() + _DISCARD_SECONDS
        try:
            self.conn.socket.settimeout(1.0)
            while time.monotonic() < deadline and self.rfile.read(64 * 1024):
                pass
        except (OSError, ValueError):  # the client gave up, or its chunked body was malformed: closed anyway
            pass


class _Connection(cheroot_server.HTTPConnection):
    """A connection that holds a worker only while its client sends: it waits in the selector until the client
    speaks, does its TLS handshake in the worker, and goes back to the selector until a request comes."""

    RequestHandlerClass = _Request

    def __init__(self, server, sock, *makefile):
        super().__init__(server, sock, *makefile)
        self.accepted = True  # just accepted: not yet waited for in the selector
        self.tls_pending = isinstance(sock, ssl.SSLSocket)

    def communicate(self):
        if self.tls_pending:
            if not self._handshake():
                return False
            if not self.socket.pending():
                return True  # no request yet: back to the selector, not waiting in the worker
        return super().communicate()

    def _handshake(self) -> bool:
        try:
            self.socket.settimeout(_HANDSHAKE_SECONDS)  # for the whole handshake, not each read
            self.socket.do_handshake()
            self.socket.settimeout(self.server.timeout)
        except (OSError, ValueError):  # ssl.SSLError is an OSError: a timeout, a reset, not TLS at all
            return False
        self.ssl_env = self.server.ssl_adapter.get_environ(self.socket)
        self.tls_pending = False
        return True


class _GrowingPool(threadpool.ThreadPool):
    """cheroot's worker pool, one worker more whenever a connection would wait for one (a client slow to send its
    request holds its own worker, not everyone's), up to `max`."""

    def __init__(self, server, min, max):  # noqa: A002 (cheroot's names)
        super().__init__(server, min=min, max=max)
        self._grow_lock = threading.Lock()

    def put(self, obj):
        with self._grow_lock:
            if self._queue.qsize() >= self.idle and len(self._threads) < self.max:
                self._threads.append(self._spawn_worker())
        super().put(obj)


class _Server(wsgi.Server):
    ConnectionClass = _Connection
    keep_alive_conn_limit = _MAX_IDLE_CONNECTIONS

    def __init__(self, bind_addr, app):
        super().__init__(bind_addr, app, numthreads=_THREADS, server_name="imds-ext-arm-emulator",
                         request_queue_size=_BACKLOG)
        self.requests = _GrowingPool(self, min=_THREADS, max=_MAX_THREADS)
        self.gateway = _Gateway

    def process_conn(self, conn):
        if conn.accepted:  # wait in the selector, holding no worker, until the client sends something
            conn.accepted = False
            self._connections.put(conn)
        else:
            super().process_conn(conn)


@contextmanager
def _signals_deferred():
    """Ctrl-C or SIGTERM while cheroot starts its worker threads (not daemons) would leave threads it does not yet
    know of, which stop() cannot end and which keep the process alive: such a signal is delivered once the server
    is up, and start() then stops it cleanly."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received, previous = [], {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda signum, _frame: received.append(signum))
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in received[:1]:
            signal.raise_signal(sig)


class Emulator:
    """The emulator in-process: `with Emulator() as emu:` serves HTTPS on a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, state_file: Optional[str] = None,
                 lro_delay: float = 0.0, registration_delay: float = 0.0, cert_dir: Optional[str] = None,
                 retry_after: Optional[int] = None, omit_retry_after: bool = False):
        self.host, self.port = host, port
        # Loads (and checks) the state file now: a corrupt file raises StateFileError before serving.
        self.backend = Backend(lro_delay=lro_delay, registration_delay=registration_delay, state_file=state_file,
                               retry_after=retry_after, omit_retry_after=omit_retry_after)
        self._own_cert_dir = cert_dir is None
        self._cert_dir = cert_dir  # made by start() when not given, removed by stop() or a failed start
        self._server = None
        self._thread = None
        self.app = EmulatorApp(self.backend, lambda: self.arm_endpoint, self._ca_pem)

    # ---- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "Emulator":
        if self._server is not None:
            return self
        try:
            if self._own_cert_dir:
                self._cert_dir = tempfile.mkdtemp(prefix="imds-emulator-")
            certs = Certificates(self._cert_dir, self.host)
            self.ca_bundle_path = certs.ca_path
            # cheroot rather than werkzeug's development server: it keeps HTTP/1.1 connections alive, so a client
            # pays for one TLS handshake, not one per request.
            self._server = _Server((self.host, self.port), self.app)
            adapter = _DeferredHandshake(certs.server_pem_path, certs.server_pem_path)
            adapter.context.minimum_version = ssl.TLSVersion.TLSv1_2
            self._server.ssl_adapter = adapter
            with _signals_deferred():
                self._server.prepare()  # binds, and starts the worker threads: port 0 becomes a real port here
                self.port = self._server.bind_addr[1]
                self._thread = threading.Thread(target=self._server.serve, name="imds-emulator", daemon=True)
                self._thread.start()
        except (OSError, ValueError) as ex:
            self._abandon_start()  # the server key must not outlive a failed start
            raise StartError(f"The emulator cannot listen on {self.host}:{self.port}: {_reason(ex)}. Choose another "
                             "--host or --port (--port 0 picks a free one).") from ex
        except BaseException:  # interrupted while starting: `with` will not call stop()
            self._abandon_start()
            raise
        return self

    def _abandon_start(self) -> None:
        server, self._server, self._thread = self._server, None, None
        if server is not None and server.ready:
            server.stop()
        self._remove_certificates()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.stop()
        self._thread.join(timeout=10)
        self._server = self._thread = None
        try:
            self.backend.save()
        finally:
            self._remove_certificates()

    def _remove_certificates(self) -> None:
        if self._own_cert_dir and self._cert_dir:
            shutil.rmtree(self._cert_dir, ignore_errors=True)
            self._cert_dir = None

    def _ca_pem(self) -> str:
        with open(self.ca_bundle_path, encoding="ascii") as f:
            return f.read()

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def listens_beyond_loopback(self) -> bool:
        return self.host not in _LOOPBACK_HOSTS and not self.host.startswith("127.")

    # ---- what clients need ----------------------------------------------------------------------
    @property
    def arm_endpoint(self) -> str:
        return f"https://{_url_host(self.host)}:{self.port}"

    @property
    def authority_host(self) -> str:
        return self.arm_endpoint

    def env(self) -> dict:
        return {"AZIMDS_ARM_ENDPOINT": self.arm_endpoint, "AZURE_AUTHORITY_HOST": self.authority_host,
                "AZURE_TENANT_ID": WELL_KNOWN_TENANT_ID, "AZURE_CLIENT_ID": WELL_KNOWN_CLIENT_ID,
                "AZURE_CLIENT_SECRET": WELL_KNOWN_CLIENT_SECRET,
                "AZURE_SUBSCRIPTION_ID": WELL_KNOWN_SUBSCRIPTION_ID, "REQUESTS_CA_BUNDLE": self.ca_bundle_path,
                # MSAL validates unknown authorities against login.microsoftonline.com; like az's
                # `core.instance_discovery=false`, this tells az-imds the emulator authority is intended.
                "AZIMDS_CORE_INSTANCE_DISCOVERY": "false"}

    def write_env_file(self, path: str) -> None:
        lines = [f"export {k}={shlex.quote(v)}" for k, v in self.env().items()]
        directory = os.path.dirname(os.path.abspath(path))
        check_folder(path, "--env-file")
        fd, tmp = tempfile.mkstemp(prefix=".emulator-env-", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, path)


def _reason(ex: Exception) -> str:
    text = str(ex)
    for known in ("Address already in use", "Cannot assign requested address", "Permission denied",
                  "Name or service not known"):
        if known in text:
            return known.lower()
    return text


def check_folder(path: str, option: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise StartError(f"The folder of {option} '{path}' does not exist or cannot be written to.")


@contextmanager
def _own_log_on_stderr():
    """The emulator's own warnings and errors (an internal error, a state file it cannot save) on stderr, whatever
    the host program's logging shows of other libraries."""
    logger = logging.getLogger("imds_ext.emulator")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("emulator %(levelname)s: %(message)s"))
    handler.setLevel(logging.WARNING)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def run_forever(host: str = "127.0.0.1", port: int = 0, state_file: Optional[str] = None,
                env_file: Optional[str] = None, lro_delay: float = 0.0, registration_delay: float = 0.0,
                omit_retry_after: bool = False,
                announce: Callable[[str], None] = print) -> int:
    """Serve until SIGINT/SIGTERM; write the env file once ready; save state on the way out. Returns 0."""
    if env_file:
        check_folder(env_file, "--env-file")  # before anything is started
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _own_log_on_stderr(), Emulator(host=host, port=port, state_file=state_file, lro_delay=lro_delay,
                                            registration_delay=registration_delay,
                                            omit_retry_after=omit_retry_after) as emu:
            if emu.listens_beyond_loopback:
                announce(f"WARNING: the emulator listens on {host}, beyond this machine's loopback: anyone who can "
                         "reach it can get tokens with its published well-known credentials (docs/emulator.md). "
                         "(Its admin API still answers loopback only.) Use --host 127.0.0.1 unless you mean it.")
            if env_file:
                emu.write_env_file(env_file)
            announce(f"ARM emulator listening on {emu.arm_endpoint} (CA bundle: {emu.ca_bundle_path})")
            if env_file:
                announce(f"Environment written to {env_file}; load it with: . {shlex.quote(env_file)}")
            if state_file:
                announce(f"State file: {state_file}")
            while not stop.wait(0.5):
                pass
            announce("Stopping the ARM emulator.")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
