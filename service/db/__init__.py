"""The database: models, sessions, migrations."""

from service.db.migrate import is_current, upgrade
from service.db.session import DatabaseUnavailable, make_engine, make_session_factory, ping, transaction

__all__ = ["DatabaseUnavailable", "is_current", "make_engine", "make_session_factory", "ping", "transaction", "upgrade"]
