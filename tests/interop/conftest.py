"""Fixtures for interop tests against an independent ActivityPub implementation (Fedify)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop.fedify_peer import FedifyPeer, FedifyPeerProcess, PeerSetupError

INTEROP_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything under tests/interop needs Node: mark it so `-m "not interop"` can leave it out.
    for item in items:
        if INTEROP_DIR in Path(item.path).parents:
            item.add_marker(pytest.mark.interop)


@pytest.fixture(scope="session")
def fedify_peer_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FedifyPeerProcess]:
    """One Fedify peer for the whole session (starting one costs ~1-2 s); stopped at the end."""
    process = FedifyPeerProcess(tmp_path_factory.mktemp("fedify") / "peer-stderr.log")
    try:
        process.start()
    except PeerSetupError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def fedify_peer(fedify_peer_process: FedifyPeerProcess) -> FedifyPeer:
    """A handle on the Fedify peer (actor alice), reset so each test starts from nothing."""
    assert fedify_peer_process.port is not None
    peer = FedifyPeer(fedify_peer_process.port)
    peer.reset_sync()
    return peer
