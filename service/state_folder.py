"""The state folder of one `up` instance: what the instance owns — its database (SQLite unless
settings name another), deployment manifest, secrets and embedded chain — and the locks that
keep a second instance from sharing them. `up` deletes only a database it recorded making in
its own folder (DATABASE_RECORD), when the chain that database mirrored is gone."""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from service.errors import ConfigurationError
from service.settings import Settings

DATABASE_NAME = "constellate.db"
MANIFEST_NAME = "deployment.json"
LOCK_NAME = "up.lock"
DATABASE_RECORD = "database-chain.json"
"""Written by `up` once it serves a database for a chain: which database file, and which chain
(its id and the contracts of its manifest). A database this does not name is never deleted."""
DATABASE_LOCK_SUFFIX = ".up-lock"
"""Beside a SQLite database `up` serves, wherever it is: two instances never share one."""


class InstanceInUse(ConfigurationError):
    """Another running `up` holds the state folder or the database."""


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL, None for any other database."""
    if not database_url.startswith("sqlite:///") or database_url == "sqlite:///:memory:":
        return None
    return Path(database_url.removeprefix("sqlite:///")).resolve()


@dataclass
class StateFolder:
    path: Path
    _held: list[IO[str]] = field(default_factory=list)

    @property
    def database_path(self) -> Path:
        return (self.path / DATABASE_NAME).resolve()

    @property
    def record_path(self) -> Path:
        return self.path / DATABASE_RECORD

    def check_made_by_up(self) -> None:
        """Refuses a folder holding a deployment manifest `up` did not record making: a build
        folder (`constellate serve` keeps its database beside such a manifest) is not a state folder."""
        manifest = self.path / MANIFEST_NAME
        if manifest.is_file() and not self.record_path.is_file():
            raise ConfigurationError(
                f"{manifest} was not made by `up` for this folder (no {DATABASE_RECORD} beside it): the folder "
                "looks like another tool's build folder; give `up` a state folder of its own (--state-dir), or "
                "remove the manifest if an older `up` made it"
            )

    def record_database(self, database_url: str, *, chain_id: int, contracts: dict[str, str]) -> None:
        """Records the chain this folder's instance serves, and its database if `up` makes it now
        (no such file yet) or made it before: a database that was there already is not claimed."""
        database = sqlite_path(database_url)
        made = database is not None and (
            not database.is_file() or database.stat().st_size == 0 or self._recorded_database() == database
        )
        record = {"database": str(database) if made else None, "chain_id": chain_id, "contracts": contracts}
        temporary = self.record_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(record, indent=2))
        temporary.replace(self.record_path)

    def _recorded_database(self) -> Path | None:
        try:
            recorded = json.loads(self.record_path.read_text()).get("database")
        except (OSError, ValueError, AttributeError):
            return None
        return Path(recorded) if isinstance(recorded, str) else None

    def owned_settings(self, settings: Settings) -> Settings:
        """`settings` with the database and the manifest in this folder, unless they name their own."""
        updates: dict[str, object] = {}
        if "database_url" not in settings.model_fields_set:
            updates["database_url"] = f"sqlite:///{self.database_path}"
        if "manifest_path" not in settings.model_fields_set:
            updates["manifest_path"] = self.path / MANIFEST_NAME
        return settings.model_copy(update=updates) if updates else settings

    def lock(self, settings: Settings) -> None:
        """Holds the folder, and the SQLite database wherever it is, for this process (the
        operating system lets go when it ends, a crash included). InstanceInUse names the holder."""
        self.path.mkdir(parents=True, exist_ok=True)
        self._hold(self.path / LOCK_NAME, f"the state folder {self.path}")
        database = sqlite_path(settings.database_url)
        if database is not None:
            self._hold(database.with_name(database.name + DATABASE_LOCK_SUFFIX), f"the database {database}")

    def _hold(self, lock_path: Path, what: str) -> None:
        handle = lock_path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "{}"
            handle.close()
            raise InstanceInUse(
                f"{what} is in use by another `constellate up` ({_describe(holder)}): stop it, or give this "
                "instance a state folder of its own (--state-dir) and a database of its own"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "state_dir": str(self.path.resolve())}))
        handle.flush()
        self._held.append(handle)

    def release(self) -> None:
        for handle in self._held:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        self._held.clear()

    def forget_database(self, database_url: str) -> None:
        """A fresh chain was deployed: the database mirrored the chain that is gone. Deleted if
        `up` recorded making it in this folder; any other database is never deleted — refused if
        it holds anything (a `constellate serve` database in a build folder, one elsewhere)."""
        database = sqlite_path(database_url)
        if database is None:
            return
        if database == self.database_path and self._recorded_database() == database:
            for suffix in ("", "-wal", "-shm"):
                database.with_name(database.name + suffix).unlink(missing_ok=True)
        elif database.is_file() and database.stat().st_size > 0:
            raise ConfigurationError(
                f"a fresh chain was deployed, but the database {database} holds records of another chain and "
                f"`up` did not make it here for a chain of its own (no record of it in {self.record_path}): "
                "`up` does not delete it; remove it yourself, or give another --state-dir or --database-url"
            )


def _describe(holder: str) -> str:
    try:
        details = json.loads(holder)
    except json.JSONDecodeError:
        return "unknown process"
    return f"pid {details.get('pid', '?')}, state folder {details.get('state_dir', '?')}"
