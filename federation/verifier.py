"""Inbox checks in worker processes, so receiving can use more than one core.

Checking a signed delivery (JSON parse, the signature's policy, time and digest, the RSA
operation, the origin rules) is pure Python and holds the GIL: on the event loop it costs as
much as aiohttp's whole handling of the request. `VerifierPool` hands it to worker
processes (`federation.verifier.worker_main`) over their stdin and stdout: the event loop
only reads the body, looks the key up in its cache, sends one frame and gets one back.

Only the common case goes there: a key the hub already holds in memory. Anything the
workers cannot decide without I/O (an unknown key, a signature that fails with the cached
key and may need a refreshed one) comes back as "undecided", and the inbox takes its
in-process path, which can fetch. So can every request while no worker is running: the
workers start once the inbox has checked `start_after` deliveries (a quiet hub, or a test,
never pays for them), a worker that dies is replaced, and its pending requests are checked
in-process meanwhile. The checks are the same functions either way (`verify_known`).

Frames are a 4-byte big-endian length and a pickle, written by us on both ends of a pipe
that belongs to this process and its child; nothing from the network is unpickled that we
did not pickle ourselves.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from federation import errors
from federation.keys import PublicKey, PublicKeyType

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
_READY = 0  # the frame a worker sends once it has imported everything
_OK, _ERROR, _UNDECIDED = 1, 2, 3
JOB_TIMEOUT = 10.0  # a worker that sits on a job longer than this is replaced
RESTART_PAUSE = 1.0  # at most one start per worker slot in this many seconds
MAX_RESTART_PAUSE = 60.0
_KEY_CACHE = 4096
_READ_SIZE = 1 << 20  # what a worker reads from its pipe at once, at most
_FLUSH_EVERY = 4  # answers a worker writes before sending them on, within one read
# The child: -P keeps its working directory off sys.path; `federation` comes from where
# Python finds it for this process (installed, or PYTHONPATH), else from beside this file.
_WORKER_MAIN = (
    "import sys\n"
    f"sys.path.append({str(Path(__file__).resolve().parent.parent)!r})\n"
    "from federation.verifier import worker_main\n"
    "sys.exit(worker_main())\n")


@dataclass(frozen=True, slots=True)
class Checked:
    """A delivery that passed every check: its activity id, actor id and signing key id."""

    activity_id: str
    actor_id: str
    key_id: str


@dataclass(frozen=True, slots=True)
class Refused:
    """A delivery that failed a check: the error to answer with, and the actor id if the
    body got that far (the inbox checks it against its block list first)."""

    error: errors.FederationError
    actor_id: str | None


class _WorkerGone(Exception):
    pass


def _spki(key: PublicKeyType) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


class _Worker(asyncio.SubprocessProtocol):
    """One worker process: frames out on its stdin, results in from its stdout."""

    def __init__(self, on_exit: Any) -> None:
        self.transport: asyncio.SubprocessTransport | None = None
        self.ready = False
        self.pending: dict[int, tuple[asyncio.Future[Any], float]] = {}
        self._buffer = bytearray()
        self._stdin: asyncio.WriteTransport | None = None
        self._out: list[tuple[int, bytes]] = []  # frames not yet written, by sequence number
        self._on_exit = on_exit
        self.exited = False
        self.gone = asyncio.Event()
        self.progress = 0.0  # when it last answered
        self.ever_ready = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._stdin = self.transport.get_pipe_transport(0)  # type: ignore[union-attr,assignment]

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self._buffer += data
        for frame in _whole_frames(self._buffer):
            self._deliver(frame)

    def _deliver(self, frame: tuple[Any, ...]) -> None:
        self.progress = time.monotonic()
        if frame[0] == _READY:
            self.ready = self.ever_ready = True
            return
        waiting = self.pending.pop(frame[1], None)
        if waiting is not None and not waiting[0].done():
            waiting[0].set_result(frame)

    def send(self, seq: int, job: tuple[Any, ...], future: asyncio.Future[Any]) -> None:
        """Queue a job; the jobs queued in one turn of the event loop leave in one write
        (one system call for several deliveries under load, each ~10 µs here)."""
        if self._stdin is None or self._stdin.is_closing():
            raise RuntimeError("the worker's stdin is closed")
        data = pickle.dumps((seq, *job), protocol=pickle.HIGHEST_PROTOCOL)
        self.pending[seq] = (future, time.monotonic())
        if not self._out:
            asyncio.get_running_loop().call_soon(self._flush)
        self._out.append((seq, _LENGTH.pack(len(data)) + data))

    def _flush(self) -> None:
        frames, self._out = self._out, []
        if not frames or self.exited:
            return  # an exited worker's jobs have failed already
        assert self._stdin is not None
        if self._stdin.is_closing():  # a closing pipe drops writes silently: fail them now
            for seq, _ in frames:
                waiting = self.pending.pop(seq, None)
                if waiting is not None and not waiting[0].done():
                    waiting[0].set_exception(_WorkerGone())
            return
        self._stdin.write(b"".join(frame for _, frame in frames))

    def stalled_for(self, now: float) -> float:
        """Seconds this worker has had jobs and answered none (0 when it has none)."""
        if not self.pending:
            return 0.0
        return now - max(self.progress, min(t for _, t in self.pending.values()))

    def process_exited(self) -> None:
        self.exited = True
        self.ready = False
        for future, _ in self.pending.values():
            if not future.done():
                future.set_exception(_WorkerGone())
        self.pending.clear()
        self.gone.set()
        if self.transport is not None:
            self.transport.close()
        self._on_exit(self)

    def close_stdin(self) -> None:
        if self._stdin is not None and not self._stdin.is_closing():
            self._flush()
            self._stdin.close()


class VerifierPool:
    """Worker processes that check inbox deliveries; see the module docstring."""

    def __init__(self, processes: int, *, start_after: int = 50,
                 job_timeout: float = JOB_TIMEOUT) -> None:
        if processes < 1:
            raise ValueError("a verifier pool needs at least one process")
        self._slots: list[_Worker | None] = [None] * processes
        self._started_at = [0.0] * processes
        self._failures = [0] * processes
        self._starting: set[asyncio.Task[None]] = set()
        self._start_after = start_after
        self._job_timeout = job_timeout
        self._seen = 0
        self._answered = 0
        self._seq = 0
        self._next = 0
        self._closed = False
        self._spki: dict[str, tuple[PublicKeyType, bytes]] = {}
        self._watchdog: asyncio.TimerHandle | None = None

    @property
    def answered(self) -> int:
        """Deliveries the workers have checked (decided or not) since the pool started."""
        return self._answered

    async def ready(self) -> None:
        """Start every worker now, whatever `start_after` says, and wait until each is
        ready (bound it with `asyncio.timeout`)."""
        self._seen = max(self._seen, self._start_after)
        while not all(w is not None and w.ready for w in self._slots):
            for index, worker in enumerate(self._slots):
                if worker is None or worker.exited:
                    self._start(index)
            await asyncio.sleep(0.02)

    def pids(self) -> list[int]:
        """Process ids of the running workers (a benchmark counts their CPU)."""
        return [w.transport.get_pid() for w in self._slots
                if w is not None and w.transport is not None and not w.exited]

    async def check(self, method: str, url: str, raw_headers: tuple[tuple[bytes, bytes], ...],
                    body: bytes, key: PublicKey, *, window: int,
                    max_depth: int) -> Checked | Refused | None:
        """Check a delivery in a worker; `raw_headers` as aiohttp's `request.raw_headers`
        holds them (the worker decodes them as aiohttp does). None: undecided, or no worker
        ready; the caller checks it in-process."""
        worker = self._worker()
        if worker is None:
            return None
        spki = self._spki.get(key.key_id)
        if spki is None or spki[0] is not key.public_key:
            if len(self._spki) >= _KEY_CACHE:
                self._spki.clear()
            spki = self._spki[key.key_id] = (key.public_key, _spki(key.public_key))
        self._seq += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        job = (method, url, raw_headers, body, key.key_id, key.owner, spki[1], window,
               max_depth)
        try:
            worker.send(self._seq, job, future)
        except (RuntimeError, OSError):  # its pipe closed under us: it is exiting
            return None
        self._arm_watchdog()
        try:
            frame = await future
        except _WorkerGone:
            return None
        self._answered += 1
        if frame[0] == _OK:
            return Checked(frame[2], frame[3], frame[4])
        if frame[0] == _ERROR:
            return Refused(_error(frame[2], frame[3]), frame[4])
        return None

    def _worker(self) -> _Worker | None:
        """A ready worker (starting any that should run); None if none is ready yet."""
        if self._closed:
            return None
        if self._seen < self._start_after:
            self._seen += 1
            return None
        count = len(self._slots)
        for step in range(count):
            index = (self._next + step) % count
            worker = self._slots[index]
            if worker is None or worker.exited:
                self._start(index)
                continue
            if worker.ready:
                self._failures[index] = 0
                self._next = (index + 1) % count
                return worker
        return None

    def _start(self, index: int) -> None:
        now = time.monotonic()
        # A worker that keeps dying before it is ready (a broken install, say) is tried
        # less and less often: 1 s, 2 s, 4 s... up to a minute.
        pause = min(RESTART_PAUSE * 2 ** self._failures[index], MAX_RESTART_PAUSE)
        if now - self._started_at[index] < pause:
            return
        previous = self._slots[index]
        if previous is not None and not previous.ever_ready:
            self._failures[index] += 1
        self._started_at[index] = now
        task = asyncio.get_running_loop().create_task(self._spawn(index))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _spawn(self, index: int) -> None:
        loop = asyncio.get_running_loop()
        worker = _Worker(self._gone)
        self._slots[index] = worker
        try:
            await loop.subprocess_exec(
                lambda: worker, sys.executable, "-P", "-c", _WORKER_MAIN,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=None)
        except Exception as exc:
            log.warning("cannot start an inbox verifier process: %s", exc)
            worker.exited = True
            return
        if self._closed:
            worker.close_stdin()

    def _gone(self, worker: _Worker) -> None:
        if not self._closed:
            log.warning("an inbox verifier process exited; checking in-process until another "
                        "starts")

    def _arm_watchdog(self) -> None:
        if self._watchdog is None:
            loop = asyncio.get_running_loop()
            self._watchdog = loop.call_later(self._job_timeout / 2, self._watch)

    def _watch(self) -> None:
        """Replace a worker that sits on a job too long; its jobs are checked in-process."""
        self._watchdog = None
        now, busy = time.monotonic(), False
        for worker in self._slots:
            if worker is None or worker.exited or worker.transport is None:
                continue
            if not worker.pending:
                continue
            busy = True
            if worker.stalled_for(now) > self._job_timeout:
                log.warning("an inbox verifier process answered nothing for %.0f s; replacing it",
                            self._job_timeout)
                worker.transport.kill()
        if busy:
            self._arm_watchdog()

    async def close(self) -> None:
        """Stop the workers: each exits when its stdin closes; killed after 5 s."""
        self._closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        for task in list(self._starting):
            await asyncio.gather(task, return_exceptions=True)
        workers = [w for w in self._slots if w is not None and w.transport is not None]
        for worker in workers:
            worker.close_stdin()
        deadline = time.monotonic() + 5.0
        for worker in workers:
            try:
                await asyncio.wait_for(worker.gone.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                pass
            if not worker.exited:
                worker.transport.kill()  # type: ignore[union-attr]
            worker.transport.close()  # type: ignore[union-attr]


_ERRORS: dict[str, type[errors.FederationError]] = {
    cls.__name__: cls for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, errors.FederationError)
}


def _error(name: str, message: str) -> errors.FederationError:
    return _ERRORS.get(name, errors.FederationError)(message)


# The worker process -------------------------------------------------------------------

def _run_job(job: tuple[Any, ...], keys: dict[bytes, PublicKeyType]) -> tuple[Any, ...]:
    from federation.cavage import normalise_headers
    from federation.inbox import activity_ids, parse_activity, verify_known

    seq, method, url, raw_headers, body, key_id, owner, spki, window, max_depth = job
    public_key = keys.get(spki)
    if public_key is None:
        if len(keys) >= _KEY_CACHE:
            keys.clear()
        public_key = keys[spki] = serialization.load_der_public_key(spki)  # type: ignore[assignment]
    actor_id = None
    try:
        activity = parse_activity(body, max_depth)
        activity_id, actor_id = activity_ids(activity)
        headers = normalise_headers((name.decode("utf-8", "surrogateescape"),
                                     value.decode("utf-8", "surrogateescape"))
                                    for name, value in raw_headers)
        signer = verify_known(activity, actor_id, method, url, headers, body,
                              PublicKey(key_id, owner, public_key), window=window)
    except errors.FederationError as exc:
        return (_ERROR, seq, type(exc).__name__, exc.message, actor_id)
    except Exception:  # a bug or an input no check foresaw: the in-process path decides,
        return (_UNDECIDED, seq)  # and this worker lives on
    if signer is None:
        return (_UNDECIDED, seq)
    return (_OK, seq, activity_id, actor_id, signer)


def worker_main() -> int:
    """Read jobs on stdin, write results on stdout, until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the hub, which stops us
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot break a frame
    source = sys.stdin.fileno()
    import federation.inbox  # noqa: F401  (imported before saying we are ready)

    keys: dict[bytes, PublicKeyType] = {}
    _write(out, (_READY,))
    out.flush()
    buffer = bytearray()
    # Whatever has arrived is read at once and answered as it is checked, flushed a few
    # answers at a time: a burst costs a few system calls, not two per delivery.
    while data := os.read(source, _READ_SIZE):
        buffer += data
        for answered, job in enumerate(_whole_frames(buffer), 1):
            _write(out, _run_job(job, keys))
            if answered % _FLUSH_EVERY == 0:
                out.flush()
        out.flush()
    return 0


def _whole_frames(buffer: bytearray) -> list[Any]:
    """The whole frames at the start of `buffer`, unpickled and removed from it; a frame
    not yet whole stays for the next read."""
    frames, offset = [], 0
    while len(buffer) - offset >= 4:
        (size,) = _LENGTH.unpack_from(buffer, offset)
        if len(buffer) - offset - 4 < size:
            break
        frames.append(pickle.loads(buffer[offset + 4:offset + 4 + size]))
        offset += 4 + size
    del buffer[:offset]
    return frames


def _write(out: Any, frame: tuple[Any, ...]) -> None:
    data = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LENGTH.pack(len(data)) + data)


if __name__ == "__main__":
    sys.exit(worker_main())
