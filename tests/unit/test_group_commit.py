"""Group commit (runtime.store.group_commit): the batches a durable engine's executions write
within one event-loop turn go in one transaction, each rolled back alone when it fails, and
no start is answered before it is committed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from runtime.executions import Engine, ExecutionAlreadyExists
from runtime.host import LocalHost
from runtime.store import StoreError
from runtime.store.executions import ExecutionStore
from runtime.store.group_commit import GroupCommit
from runtime.store.sqlite import Database

WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


class _Counted(ExecutionStore):
    """An execution store that notes how many batches each of its transactions held."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.transactions: list[int] = []

    def write_each(
        self, writes: Sequence[Callable[[sqlite3.Connection], None]]
    ) -> list[BaseException | None]:
        self.transactions.append(len(writes))
        return super().write_each(writes)


def _engine(db: Path) -> tuple[Engine, _Counted]:
    engine = Engine(LocalHost(seed=1), database=db)
    assert engine.store is not None
    engine.store.close()
    engine.store = store = _Counted(db)
    return engine, store


def test_starts_that_come_together_are_committed_in_one_transaction(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"

    async def main() -> list[str]:
        engine, store = _engine(db)
        machine = engine.create_state_machine(WAIT, name="M")
        started = await asyncio.gather(*(machine.start({"n": n}, name=f"e{n}") for n in range(20)))
        # Answered only once committed: the file holds each start already.
        assert all(store.execution(e.arn) is not None for e in started)
        assert store.transactions[0] == 20
        await engine.aclose()
        return [e.arn for e in started]

    arns = asyncio.run(main())  # the loop ends: the executions stay RUNNING in the file
    reopened = ExecutionStore(db)
    rows = [reopened.execution(arn) for arn in arns]
    assert [(row.status, row.input) for row in rows if row is not None] == [
        ("RUNNING", f'{{"n":{n}}}') for n in range(20)
    ]
    assert [reopened.events(arn)[0].type for arn in arns] == ["ExecutionStarted"] * 20


def test_executions_that_run_side_by_side_share_their_transactions(tmp_path: Path) -> None:
    async def main() -> list[int]:
        engine, store = _engine(tmp_path / "db.sqlite3")
        machine = engine.create_state_machine(PASS, name="M")
        started = await asyncio.gather(*(machine.start(name=f"e{n}") for n in range(10)))
        ended = await asyncio.gather(*(e.wait() for e in started))
        assert [e.status for e in ended] == ["SUCCEEDED"] * 10
        await engine.aclose()
        return store.transactions

    # The ten starts in one transaction, the ten ends in another.
    assert asyncio.run(main()) == [10, 10]


def test_one_start_of_a_name_wins_when_two_come_together(tmp_path: Path) -> None:
    async def main() -> list[object]:
        engine, _ = _engine(tmp_path / "db.sqlite3")
        machine = engine.create_state_machine(WAIT, name="M")
        starts = [machine.start({"n": n}, name="same") for n in range(2)]
        outcomes = await asyncio.gather(*starts, return_exceptions=True)
        await engine.aclose()
        return [type(outcome).__name__ for outcome in outcomes]

    assert asyncio.run(main()) == ["Execution", ExecutionAlreadyExists.__name__]


def _insert(key: str) -> Callable[[sqlite3.Connection], None]:
    """A batch of two rows, the second one ``key``."""

    def write(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO t VALUES (?)", (f"{key}-1",))
        db.execute("INSERT INTO t VALUES (?)", (key,))

    return write


def _keys(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return sorted(row[0] for row in db.execute("SELECT k FROM t"))


def test_a_failing_batch_is_rolled_back_alone(tmp_path: Path) -> None:
    database = Database(tmp_path / "db.sqlite3", "CREATE TABLE t (k TEXT PRIMARY KEY);")

    async def main() -> list[BaseException | None]:
        group = GroupCommit(database)
        queued = [group.queue(_insert(key)) for key in ("a", "b", "b", "c")]
        await asyncio.wait(queued)
        return [done.exception() for done in queued]

    failures = asyncio.run(main())
    assert failures[:2] == [None, None] and failures[3] is None
    assert isinstance(failures[2], StoreError)
    assert "UNIQUE constraint failed: t.k" in str(failures[2])
    # The second b's first row undone too.
    assert _keys(tmp_path / "db.sqlite3") == ["a", "a-1", "b", "b-1", "c", "c-1"]
    database.close()


def test_a_failing_batch_flushed_in_an_open_transaction_is_rolled_back_alone(
    tmp_path: Path,
) -> None:
    # Two Databases sharing one connection: batches flushed while the other holds a
    # transaction open join it, and the one that fails leaves the rest of it as it was.
    database = Database(tmp_path / "db.sqlite3", "CREATE TABLE t (k TEXT PRIMARY KEY);")
    beside = Database(tmp_path / "db.sqlite3", "", beside=database)

    async def main() -> list[BaseException | None]:
        group = GroupCommit(database)
        with beside._write() as db:
            db.execute("INSERT INTO t VALUES ('outer')")
            queued = [group.queue(_insert(key)) for key in ("a", "a", "b")]
            group.flush()
        return [done.exception() for done in queued]

    failures = asyncio.run(main())
    assert failures[0] is None and failures[2] is None
    assert isinstance(failures[1], StoreError)
    assert _keys(tmp_path / "db.sqlite3") == ["a", "a-1", "b", "b-1", "outer"]
    database.close()
