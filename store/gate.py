"""One process's writes to the database one at a time, and its readers kept off the file while one runs.

DuckDB lets one process write, and inside one process it refuses a read-only and a read-write connection to the
same file at once ("Can't open a connection to same database file with a different configuration"). A server
runs many sessions in one process: its writes (uploads, review items) take turns here, a write waits for the
readers already reading (their queries are short), and a reader that comes while a write runs waits briefly,
then is told a load is running (`Busy`) instead of meeting DuckDB's words.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from store.errors import Busy

READER_WAIT_S = 1.0  # a review note commits in milliseconds; an upload takes longer, and readers are told so

_turns = threading.Lock()  # the queue of writers
_state = threading.Condition()
_readers = 0
_writing = False
_since: float | None = None
_mine = threading.local()  # `release`: what this thread holds open between reads (store/db.py one_reader)


def before_writing(release: Callable[[], None] | None) -> None:
    """What this thread lets go of before it writes (its held readers): a write waits for every reader, its own
    too, so one it held would wait forever."""
    _mine.release = release


def writing() -> bool:
    """Whether this process is writing to the database now."""
    return _writing


def write_started() -> float | None:
    """When the write running now started (time.time()), None when none runs."""
    return _since


@contextmanager
def write_turn(waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """This process's one write at a time: `waiting` is called once if another write runs (so a page can say
    so); then the readers already reading finish, new readers are turned away until the write is done."""
    global _writing, _since
    if (release := getattr(_mine, "release", None)) is not None:
        release()
    if not _turns.acquire(blocking=False):
        if waiting:
            waiting()
        _turns.acquire()
    try:
        with _state:
            _writing, _since = True, time.time()
            _state.wait_for(lambda: _readers == 0)
        yield
    finally:
        with _state:
            _writing, _since = False, None
            _state.notify_all()
        _turns.release()


@contextmanager
def read_turn(wait_s: float = READER_WAIT_S) -> Iterator[None]:
    """A reader's turn: at once unless this process is writing; then it waits up to `wait_s` and says so."""
    global _readers
    with _state:
        if not _state.wait_for(lambda: not _writing, timeout=wait_s):
            raise Busy("A load is running on this server; the page shows the data when it is done.")
        _readers += 1
    try:
        yield
    finally:
        with _state:
            _readers -= 1
            _state.notify_all()
