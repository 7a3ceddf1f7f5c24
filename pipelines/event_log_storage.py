"""Dagster's SQLite event log, kept open: the instance file of each home names this class.

Dagster's own SqliteEventLogStorage creates an engine and opens a connection for every event it
stores and for every check that a table exists (one per asset event), and each commit waits for
the disk. A day's increment stores some 900 events (asset materializations, one evaluation per
dbt test, partition events): about 17 s of a run that does 40 s of work. This class keeps one
engine per database file open (the index and the few runs a process writes) and commits with
`synchronous=NORMAL`. In the WAL mode Dagster sets on these files, that keeps them consistent
after a crash; a power cut may lose the last events of a run, never the warehouse, which does not
depend on them.

Subclasses private parts of dagster 1.13 (`_connect`, `_initdb`, `_db_lock`), which uv.lock pins.
"""

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

# A run writes its own database and the index; a webserver reads a few runs at a time.
ENGINES_KEPT = 4


class KeptOpenSqliteEventLogStorage(SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data)
        # Reentrant: Dagster asks has_table while it holds the index's transaction.
        self._db_lock = threading.RLock()

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> "KeptOpenSqliteEventLogStorage":
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            with self._engine(shard).connect() as connection, connection.begin():
                yield connection

    def has_table(self, table_name: str) -> bool:
        """Asked of the index for every asset and check event stored: through its open engine too."""
        with self._connect(INDEX_SHARD_NAME) as connection:
            return bool(connection.dialect.has_table(connection, table_name))

    def _engine(self, shard: str) -> Engine:
        """The open engine of ``shard``, the most recently used last; the least recently used
        beyond ENGINES_KEPT is closed. Call with ``_db_lock`` held."""
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
            )
            event.listen(engine, "connect", _commit_without_waiting_for_disk)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        while len(self._engines) > ENGINES_KEPT:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    def delete_events(self, run_id: str) -> None:
        """Also closes the run's database: housekeeping removes its file next."""
        super().delete_events(run_id)
        self._close(run_id)

    def dispose(self) -> None:
        super().dispose()
        for shard in list(self._engines):
            self._close(shard)

    def _close(self, shard: str) -> None:
        with self._db_lock:
            engine = self._engines.pop(shard, None)
            if engine is not None:
                engine.dispose()


def _commit_without_waiting_for_disk(dbapi_connection, _connection_record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
