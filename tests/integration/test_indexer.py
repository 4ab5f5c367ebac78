"""The log indexer on a real chain and a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from eth_account import Account
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from service.chain.deployment import Chain
from service.chain.indexer import LogIndexer
from service.db import models
from service.roles import Role

C = Web3.keccak(text="coffee")
ZERO = b"\x00" * 32


def _indexer(chain: Chain, sessions: sessionmaker[Session], **options: int) -> LogIndexer:
    return LogIndexer(chain.w3, sessions, chain.manifest, chain.artifacts, **options)


def _count(sessions: sessionmaker[Session], model: type[models.ChainFact]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _roles(sessions: sessionmaker[Session], account: str) -> list[int]:
    with sessions() as session:
        rows = session.scalars(
            select(models.ChainRoleChange)
            .where(models.ChainRoleChange.account == account)
            .order_by(models.ChainRoleChange.block_number, models.ChainRoleChange.log_index)
        )
        return [row.roles for row in rows]


def _populate(chain: Chain) -> str:
    member = Account.create().address
    chain.registry.create_constellation(C, "Coffee")
    chain.registry.add_member(C, member, Role.SUPPLIER)
    chain.registry.grant_roles(C, chain.sender.address, Role.ANCHORER)
    chain.anchor.anchor(C, Web3.keccak(text="root"), 12, ZERO)
    chain.attestations.register_schema("origin(string country)", revocable=True, required_roles=0)
    chain.sharing.anchor_grant(Web3.keccak(text="grant"), C, ZERO, ZERO, 0)
    chain.sharing.revoke_grant(Web3.keccak(text="grant"))
    return member


def test_mirrors_every_event_kind(chain: Chain, sessions: sessionmaker[Session]) -> None:
    member = _populate(chain)
    report = _indexer(chain, sessions).sync()
    assert report.facts == 8
    assert _count(sessions, models.ChainConstellation) == 1
    assert _roles(sessions, member) == [Role.SUPPLIER]
    with sessions() as session:
        anchor = session.scalars(select(models.ChainAnchor)).one()
        assert (anchor.root, anchor.leaves, anchor.by) == (
            "0x" + Web3.keccak(text="root").hex(),
            12,
            chain.sender.address,
        )
        assert anchor.block_time.year >= 2024
    assert _count(sessions, models.ChainSchema) == 1
    assert _count(sessions, models.ChainGrant) == 1
    assert _count(sessions, models.ChainGrantRevocation) == 1


def test_sync_is_idempotent_and_a_replayed_range_is_not_doubled(chain: Chain, sessions: sessionmaker[Session]) -> None:
    _populate(chain)
    indexer = _indexer(chain, sessions)
    indexer.sync()
    assert indexer.sync().facts == 0
    with sessions() as session, session.begin():
        session.execute(models.IndexerCheckpoint.__table__.delete())
    indexer.sync()
    assert _count(sessions, models.ChainRoleChange) == 3


def test_resumes_from_its_checkpoint_after_a_restart(chain: Chain, sessions: sessionmaker[Session]) -> None:
    _populate(chain)
    _indexer(chain, sessions).sync()
    newcomer = Account.create().address
    chain.registry.add_member(C, newcomer, Role.RETAILER)
    restarted = _indexer(chain, sessions)
    report = restarted.sync()
    assert report.facts == 1
    assert report.from_block == report.to_block == chain.w3.eth.block_number
    assert _roles(sessions, newcomer) == [Role.RETAILER]


def test_small_ranges_and_confirmation_depth(chain: Chain, sessions: sessionmaker[Session]) -> None:
    _populate(chain)
    head = chain.w3.eth.block_number
    indexer = _indexer(chain, sessions, batch_blocks=1, confirmations=2)
    report = indexer.sync()
    assert report.to_block == head - 2
    assert indexer.checkpoint() == head - 2
    chain.w3.provider.make_request("anvil_mine", [2])  # type: ignore[arg-type]
    indexer.sync()
    assert _count(sessions, models.ChainGrantRevocation) == 1


def test_rewinds_a_reorganised_chain_and_converges(chain: Chain, sessions: sessionmaker[Session]) -> None:
    chain.registry.create_constellation(C, "Coffee")
    indexer = _indexer(chain, sessions)
    indexer.sync()
    fork = chain.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    dropped = Account.create().address
    chain.registry.add_member(C, dropped, Role.SUPPLIER)
    chain.w3.provider.make_request("anvil_mine", [1])  # type: ignore[arg-type]
    indexer.sync()
    assert _roles(sessions, dropped) == [Role.SUPPLIER]

    chain.w3.provider.make_request("evm_revert", [fork])  # type: ignore[arg-type]
    chain.sender.resync_nonce()
    kept = Account.create().address
    chain.registry.add_member(C, kept, Role.BRAND)
    chain.w3.provider.make_request("anvil_mine", [3])  # type: ignore[arg-type]
    report = indexer.sync()

    assert report.rewound_to is not None
    assert _roles(sessions, dropped) == []
    assert _roles(sessions, kept) == [Role.BRAND]
    with sessions() as session:
        checkpoint = session.get(models.IndexerCheckpoint, "contracts")
        assert checkpoint is not None
        assert checkpoint.block_hash == "0x" + bytes(chain.w3.eth.get_block(checkpoint.block_number)["hash"]).hex()


def test_what_the_service_recorded_in_blocks_that_do_not_hold_it_is_reopened(
    chain: Chain, sessions: sessionmaker[Session]
) -> None:
    """A reorganisation the indexer never saw (it had not read the dropped blocks yet): what the
    service recorded as anchored in a block that, once read, does not hold it, or in a block
    beyond the head, is pending again; what the block holds stays anchored."""
    chain.registry.create_constellation(C, "Coffee")
    chain.registry.grant_roles(C, chain.sender.address, Role.ANCHORER)
    root, lost, ahead = (Web3.keccak(text=name) for name in ("root", "lost", "ahead"))
    receipt = chain.anchor.anchor(C, root, 12, ZERO)
    head = chain.w3.eth.block_number

    def batch(anchored: bytes, tx: str, block: int) -> models.AnchorBatch:
        return models.AnchorBatch(
            constellation="0x" + C.hex(),
            root="0x" + anchored.hex(),
            leaf_count=12,
            status="anchored",
            tx_hash=tx,
            block_number=block,
        )

    with sessions() as session, session.begin():
        session.add_all(
            [
                batch(root, receipt.tx_hash, receipt.block_number),
                batch(lost, "0x" + "11" * 32, receipt.block_number),
                batch(ahead, "0x" + "22" * 32, head + 5),
            ]
        )
    _indexer(chain, sessions).sync()

    with sessions() as session:
        found = {
            row.root: (row.status, row.tx_hash, row.block_number) for row in session.scalars(select(models.AnchorBatch))
        }
    assert found == {
        "0x" + root.hex(): ("anchored", receipt.tx_hash, receipt.block_number),
        "0x" + lost.hex(): ("pending", None, None),
        "0x" + ahead.hex(): ("pending", None, None),
    }
