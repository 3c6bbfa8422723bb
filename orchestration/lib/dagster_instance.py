"""The Dagster instance class of lingtan's instance folder (dagster_home/dagster.yaml `instance_class`).

Dagster's own sqlite storages create a new SQLAlchemy engine for every connection (NullPool, engine disposed
after each use), so every event written compiles its INSERT again: on a 2-core machine a nightly run's ~1,300
events cost ~45 s of CPU, most of a tiny run. These storages keep one engine per database file (its compiled
statement cache survives) with a small pool of sqlite connections (a tiny run used ~4,700 connections: each
an open, a WAL shared-memory map and a PRAGMA; a pooled connection is used by one thread at a time and holds
no lock between uses, so threads and the UI's watcher stay safe), and set `synchronous=NORMAL`, sqlite's
recommended setting for WAL databases: a power cut can lose the last events but never corrupts the file. Same files, same schema: an instance written by these storages opens
with Dagster's defaults and the other way round.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa
import yaml
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy.pool import QueuePool

ENGINES_KEPT = 32  # one per run's event database: a long-lived UI process touches many runs
POOL_KEPT = 2  # idle sqlite connections kept per engine (more may be open at once; closed when returned)


def _engine(conn_string: str) -> sa.Engine:
    engine = sa.create_engine(
        conn_string,
        poolclass=QueuePool,
        pool_size=POOL_KEPT,
        max_overflow=-1,  # no limit on connections in use at once (NullPool had none): never waits
        # a pooled connection may be returned from another thread than the one that opened it
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
    )

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


class _Engines:
    """A bounded cache of engines by connection string (least recently used disposed first)."""

    def __init__(self) -> None:
        self._engines: OrderedDict[str, sa.Engine] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conn_string: str) -> tuple[sa.Engine, bool]:
        with self._lock:
            engine = self._engines.get(conn_string)
            if engine is not None:
                self._engines.move_to_end(conn_string)
                return engine, False
            engine = self._engines[conn_string] = _engine(conn_string)
            while len(self._engines) > ENGINES_KEPT:
                self._engines.popitem(last=False)[1].dispose()
            return engine, True

    def drop(self, conn_string: str) -> None:
        with self._lock:
            engine = self._engines.pop(conn_string, None)
        if engine is not None:
            engine.dispose()

    def dispose(self) -> None:
        """Close every pooled connection (the instance is disposed)."""
        with self._lock:
            engines, self._engines = list(self._engines.values()), OrderedDict()
        for engine in engines:
            engine.dispose()


class LingtanEventLogStorage(SqliteEventLogStorage):
    """Dagster's per-run sqlite event log, with one engine per shard kept."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines = _Engines()
        self._tables_seen: set[str] = set()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Any) -> Any:
        return cls(inst_data=inst_data, **config_value)

    def has_table(self, table_name: str) -> bool:
        """Dagster asks this for every asset check event (`supports_asset_checks`) and asset tag write, each time
        through a new engine and sqlite connection to the index (685 times in the tiny run, ≈ 3 % of its run
        process's CPU). A table once there stays (migrations add tables; only `wipe` removes the files, and
        forgets what was seen): a table found is remembered, a missing one asked again."""
        if table_name in self._tables_seen:
            return True
        found = super().has_table(table_name)
        if found:
            self._tables_seen.add(table_name)
        return found

    def wipe(self) -> None:
        self._tables_seen.clear()
        super().wipe()

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sa.Connection]:
        with self._db_lock:
            engine, _new = self._engines.get(self.conn_string_for_shard(shard))
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        super().dispose()
        self._engines.dispose()

    def delete_events(self, run_id: str) -> None:
        """Dagster deletes a run's event rows but leaves its sqlite file (~5 MB a nightly run) for good: the
        file of a deleted run goes too (its index rows are deleted by Dagster)."""
        super().delete_events(run_id)
        if not run_id or run_id == INDEX_SHARD_NAME:
            return
        with self._db_lock:
            self._engines.drop(self.conn_string_for_shard(run_id))
            self._initialized_dbs.discard(run_id)
            for suffix in ("", "-wal", "-shm"):
                Path(self.path_for_shard(run_id) + suffix).unlink(missing_ok=True)


class LingtanRunStorage(SqliteRunStorage):
    """Dagster's sqlite run storage, with its engine kept."""

    def __init__(self, conn_string: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._kept = _engine(conn_string)
        super().__init__(conn_string, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Any) -> Any:
        return cls.from_local(inst_data=inst_data, **config_value)

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        with self._kept.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        super().dispose()
        self._kept.dispose()


class LingtanSqliteStorage(DagsterSqliteStorage):
    """The instance's storage: runs, events and schedules in sqlite files under the instance folder."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self.base_dir = base_dir
        self._inst_data = inst_data
        self._run_storage = LingtanRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = LingtanEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        super(DagsterSqliteStorage, self).__init__()  # not the parent's: it would open Dagster's own storages

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Any) -> Any:
        return cls.from_local(inst_data=inst_data, **config_value)


class LingtanInstance(dg.DagsterInstance):
    """A persistent instance whose default storage is LingtanSqliteStorage under the instance folder (the
    folder can move: no path is written into dagster.yaml)."""

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return {}  # no settings of its own

    @classmethod
    def config_defaults(cls, base_dir: str) -> Mapping[str, ConfigurableClassData | None]:
        defaults = dict(InstanceRef.config_defaults(base_dir))
        defaults["storage"] = ConfigurableClassData(
            __name__, "LingtanSqliteStorage", yaml.dump({"base_dir": base_dir}, default_flow_style=False)
        )
        defaults["run_storage"] = ConfigurableClassData(
            __name__,
            "LingtanRunStorage",
            yaml.dump({"base_dir": _runs_directory(base_dir)}, default_flow_style=False),
        )
        defaults["event_log_storage"] = ConfigurableClassData(
            __name__,
            "LingtanEventLogStorage",
            yaml.dump({"base_dir": _event_logs_directory(base_dir)}, default_flow_style=False),
        )
        return defaults
