"""The seam where the chain enters: a Web3 client for any JSON-RPC endpoint."""

from __future__ import annotations

import requests
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3Exception

from service.errors import ChainUnavailable

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    ConnectionError,
    TimeoutError,
)


def connect(rpc_url: str, *, timeout: float = 10.0) -> Web3:
    """A Web3 client with a request timeout; web3's own retries are off (the sender retries)."""
    provider = HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
    return Web3(provider)


def chain_id(w3: Web3) -> int:
    """The endpoint's chain id, or ChainUnavailable naming the endpoint."""
    try:
        return int(w3.eth.chain_id)
    except (*TRANSIENT_ERRORS, Web3Exception, OSError) as exc:
        raise ChainUnavailable(f"JSON-RPC endpoint {endpoint(w3)} is unreachable: {exc}") from exc


def endpoint(w3: Web3) -> str:
    return str(getattr(w3.provider, "endpoint_uri", w3.provider))
