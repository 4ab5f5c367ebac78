"""Rotating a managed key: the new key is stored first (so it can never be lost), then the
member's roles move to the new address in every constellation it coordinates itself; the others
are reported for their coordinator to re-grant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.chain import typed_data
from service.db.models import Constellation, ManagedKey
from service.domain import members
from service.domain.constellations import constellations_of, roles_message
from service.domain.signing import deadline_in
from service.roles import Role
from service.runtime import Runtime


def rotate_and_move_roles(*, runtime: Runtime, session: Session, member_id: str) -> dict[str, object]:
    chain = runtime.chain
    with session.begin():
        member = members.get_member(session=session, member_id=member_id)
        old_address, new_address = members.rotate_managed_key(session=session, vault=runtime.vault, member=member)
    old_key = session.scalar(select(ManagedKey).where(ManagedKey.address == old_address))
    assert old_key is not None and runtime.vault is not None
    old_signer = runtime.vault.open(member_id=member_id, nonce=old_key.nonce, ciphertext=old_key.ciphertext)
    moved: list[str] = []
    pending: list[str] = []
    for membership in constellations_of(session=session, address=old_address):
        slug = session.scalar(select(Constellation.slug).where(Constellation.id == membership.constellation))
        name = slug or membership.constellation
        if not membership.roles & Role.COORDINATOR:
            pending.append(name)
            continue
        cid = bytes.fromhex(membership.constellation.removeprefix("0x"))
        for account, roles in ((new_address, membership.roles), (old_address, 0)):
            deadline = deadline_in(runtime.settings.signature_ttl_seconds)
            message = roles_message(
                chain=chain,
                coordinator=old_address,
                cid=membership.constellation,
                account=account,
                roles=roles,
                deadline=deadline,
            )
            signature = typed_data.sign(bytes(old_signer.key), message)
            chain.registry.set_roles_by_sig(
                cid, account, roles, coordinator=old_address, deadline=deadline, signature=signature
            )
        moved.append(name)
    runtime.sync_index()
    return {"old_address": old_address, "new_address": new_address, "moved": moved, "pending": pending}
