"""The state folder of one `up` instance: what the instance owns — its database (SQLite unless
settings name another), deployment manifest, secrets and embedded chain — and the locks that
keep a second instance from sharing them. `up` deletes only a database it made in its own
folder, when the chain that database mirrored is gone."""

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
        `up` made it here; a database elsewhere is never deleted — refused if it holds anything."""
        database = sqlite_path(database_url)
        if database is None:
            return
        if database == self.database_path:
            for suffix in ("", "-wal", "-shm"):
                database.with_name(database.name + suffix).unlink(missing_ok=True)
        elif database.is_file() and database.stat().st_size > 0:
            raise ConfigurationError(
                f"a fresh chain was deployed, but the database {database} holds records of another chain and "
                f"`up` did not make it (its own is {self.database_path}): `up` does not delete it; remove it "
                "yourself or give another --database-url"
            )


def _describe(holder: str) -> str:
    try:
        details = json.loads(holder)
    except json.JSONDecodeError:
        return "unknown process"
    return f"pid {details.get('pid', '?')}, state folder {details.get('state_dir', '?')}"
