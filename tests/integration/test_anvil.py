from __future__ import annotations

import socket

import pytest

from service.chain.anvil import AnvilProcess
from service.chain.rpc import chain_id, connect
from service.errors import ChainUnavailable


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_two_nodes_get_free_ports_answer_and_stop() -> None:
    with AnvilProcess(chain_id=777) as first, AnvilProcess() as second:
        assert first.port != second.port
        assert first.rpc_url.startswith("http://127.0.0.1:")
        assert chain_id(connect(first.rpc_url)) == 777
        assert chain_id(connect(second.rpc_url)) == 31337
    assert not _port_open(first.port) and not _port_open(second.port)


def test_state_survives_a_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "state.json"
    with AnvilProcess(state_path=state) as node:
        w3 = connect(node.rpc_url)
        w3.provider.make_request("anvil_mine", [5])  # type: ignore[arg-type]
        mined = w3.eth.block_number
    with AnvilProcess(state_path=state) as node:
        assert connect(node.rpc_url).eth.block_number == mined


def test_a_port_in_use_fails_clearly() -> None:
    with AnvilProcess() as node, pytest.raises(ChainUnavailable, match="already in use"):
        AnvilProcess(port=node.port).start(timeout=10)
