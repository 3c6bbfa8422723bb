"""The `lingtan` resource of distributed runs: the same settings as LingtanConfig; with an S3 home every step
pulls the home into its worker's mirror before it runs and pushes what it wrote after (sync.py)."""

from __future__ import annotations

import dagster as dg
from pydantic import PrivateAttr

from orchestration.distributed.sync import StepSync
from orchestration.lib.config import LingtanConfig
from orchestration.lib.home import Home, home_uri


class StepSyncedLingtan(LingtanConfig):
    """LingtanConfig whose S3 home is synced per step (each step may run on another machine). A local home is
    used as it is (workers on one machine, or a shared file system)."""

    _sync: StepSync | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if not self.home_is_s3():
            return
        sync = StepSync(home_uri(self.home or None))
        sync.lock()
        try:
            got, removed = sync.pull()
        except BaseException:
            sync.unlock()
            raise
        self._sync = sync
        if context.log:
            context.log.info(f"home {sync.uri} → {sync.root}: {got} file(s) pulled, {removed} removed")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        sync, self._sync = self._sync, None
        if sync is None:
            return
        try:
            sent, deleted = sync.push()
        finally:
            sync.unlock()
        if context.log:
            context.log.info(f"home {sync.root} → {sync.uri}: {sent} file(s) pushed, {deleted} deleted")

    def home_dir(self) -> Home:
        if self._sync is not None:
            return Home(self._sync.root)
        return super().home_dir()
