"""Visitors' feedback kept in SQLite: one writer behind a lock, WAL, a versioned schema, bounded size.

It knows nothing about Gradio, torch or models: it stores records that `collect.py` has checked, and
answers the owner's queries. Every record it acknowledges has been committed with synchronous=FULL, so
a crash (even SIGKILL or a power cut) after `add` returned cannot lose it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sentiment_demo.errors import InputError

SCHEMA_VERSION = 1
UP = "up"  # the visitor's answer when the model was right
STATUSES = ("new", "accepted", "rejected")
# A writer waits this long for another process's lock (e.g. the recipe reading) before giving up:
# far longer than any commit here takes, so a visitor never sees "database is locked".
BUSY_TIMEOUT_MS = 30_000
COLUMNS = (
    "id",
    "uid",
    "created_at",
    "text",
    "model",
    "model_revision",
    "predicted",
    "scores",
    "answer",
    "label",
    "note",
    "session_hash",
    "status",
    "pushed_at",
)


class FeedbackError(InputError):
    """Feedback the store refuses; the message names the limit and its setting."""


class FeedbackSchemaError(RuntimeError):
    """The database file was written by a newer release, or is not a feedback database."""


@dataclass(frozen=True)
class Submission:
    """One checked piece of feedback, with the model's own prediction for the text.

    Attributes:
        answer: `UP` when the visitor says the prediction is right, else the label they chose.
        session: the visitor's session id; only its salted hash is stored.
    """

    text: str
    model: str
    model_revision: str
    predicted: str
    scores: tuple[tuple[str, float], ...]
    answer: str
    note: str
    session: str

    @property
    def label(self) -> str:
        """The right label according to the visitor."""
        return self.predicted if self.answer == UP else self.answer


@dataclass(frozen=True)
class FeedbackRecord:
    """One stored record, as the owner reviews and exports it."""

    id: int
    uid: str
    created_at: str
    text: str
    model: str
    model_revision: str
    predicted: str
    scores: tuple[tuple[str, float], ...]
    answer: str
    label: str
    note: str
    session_hash: str
    status: str
    pushed_at: str | None

    def as_row(self) -> dict[str, object]:
        """A flat row for tables and exports; the scores as a JSON object."""
        row: dict[str, object] = {name: getattr(self, name) for name in COLUMNS}
        row["scores"] = json.dumps(dict(self.scores))
        return row


@dataclass(frozen=True)
class Added:
    """What `add` did: the record's id, and whether it was already there (counted once)."""

    id: int
    duplicate: bool


def _step_1(conn: sqlite3.Connection) -> None:
    _run_script(
        conn,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            text TEXT NOT NULL,
            model TEXT NOT NULL,
            model_revision TEXT NOT NULL,
            predicted TEXT NOT NULL,
            scores TEXT NOT NULL,
            answer TEXT NOT NULL,
            label TEXT NOT NULL,
            note TEXT NOT NULL,
            session_hash TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'accepted', 'rejected')),
            pushed_at TEXT
        );
        CREATE UNIQUE INDEX feedback_once ON feedback (session_hash, model, answer, text);
        CREATE INDEX feedback_status ON feedback (status, model);
        """,
    )


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # executescript would commit the migration's open transaction first; run each statement in it.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


# MIGRATIONS[n] takes a database at user_version n to n + 1. A later release appends steps; files
# made by this one are then migrated in place at start-up, each step in one transaction.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_step_1,)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to SCHEMA_VERSION; returns the version found before.

    Raises:
        FeedbackSchemaError: the file is from a newer release than this one.
    """
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > len(MIGRATIONS):
        raise FeedbackSchemaError(
            f"the feedback database has schema version {found}, newer than this release's "
            f"{len(MIGRATIONS)}: upgrade the app, or point --feedback at another file"
        )
    for version in range(found, len(MIGRATIONS)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version](conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return found


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode with the durability and waiting settings every one needs."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)  # fmt: skip
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # FULL: a WAL commit is fsynced before it returns, so an acknowledged record survives a crash of
    # the machine too (NORMAL would survive only a crash of the process).
    conn.execute("PRAGMA synchronous = FULL")
    return conn


class FeedbackStore:
    """The feedback database: `add` from many threads, queries for the owner, exports.

    Writes go through one connection behind a lock (SQLite allows one writer at a time anyway; the
    lock makes them wait in Python instead of retrying on SQLITE_BUSY). Reads open their own
    connection, so the owner's queries never wait for visitors' writes (WAL).
    """

    def __init__(self, path: Path | str, max_bytes: int, salt: str = "") -> None:
        """Open (creating or migrating) the database at `path`.

        Raises:
            FeedbackSchemaError: the file is not a feedback database this release can use.
        """
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        try:
            self._writer = connect(self.path)
        except sqlite3.DatabaseError as exc:
            raise FeedbackSchemaError(f"{self.path}: not a feedback database ({exc})") from None
        try:
            mode = self._writer.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise FeedbackSchemaError(f"{self.path}: SQLite refused WAL mode ({mode})")
            migrate(self._writer)
        except sqlite3.DatabaseError as exc:
            self._writer.close()
            raise FeedbackSchemaError(f"{self.path}: not a feedback database ({exc})") from None
        self._salt = salt or self._stored_salt()

    def _stored_salt(self) -> str:
        with self._lock:
            self._writer.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)",
                (secrets.token_hex(16),),
            )
            return str(
                self._writer.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0]
            )

    def session_hash(self, session: str) -> str:
        """The salted hash stored instead of the session id (the same session, the same hash)."""
        return hashlib.sha256(f"{self._salt}\x1f{session}".encode()).hexdigest()[:20]

    def size_bytes(self) -> int:
        """The database's size on disk, its write-ahead log included."""
        return sum(
            p.stat().st_size
            for p in (self.path, self.path.with_name(self.path.name + "-wal"))
            if p.exists()
        )

    def add(self, submission: Submission) -> Added:
        """Store one record (durably) and return its id; the same one twice is counted once.

        Raises:
            FeedbackError: the database has reached its size limit.
        """
        if self.size_bytes() >= self.max_bytes:
            raise FeedbackError(
                f"Feedback storage is full (the limit is {self.max_bytes / 2**20:g} MiB, "
                "--feedback-max-mb): thank you, but no more feedback can be kept for now."
            )
        hashed = self.session_hash(submission.session)
        values = (
            str(uuid.uuid4()),
            datetime.now(UTC).isoformat(timespec="milliseconds"),
            submission.text,
            submission.model,
            submission.model_revision,
            submission.predicted,
            json.dumps(dict(submission.scores)),
            submission.answer,
            submission.label,
            submission.note,
            hashed,
        )
        with self._lock:
            cursor = self._writer.execute(
                "INSERT INTO feedback (uid, created_at, text, model, model_revision, predicted, "
                "scores, answer, label, note, session_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (session_hash, model, answer, text) DO NOTHING",
                values,
            )
            if cursor.rowcount == 1:
                return Added(int(cursor.lastrowid or 0), duplicate=False)
            row = self._writer.execute(
                "SELECT id FROM feedback WHERE session_hash = ? AND model = ? AND answer = ? "
                "AND text = ?",
                (hashed, submission.model, submission.answer, submission.text),
            ).fetchone()
        return Added(int(row[0]), duplicate=True)

    def set_status(self, ids: Sequence[int], status: str) -> int:
        """Mark records accepted, rejected or new again; returns how many exist and were marked."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        with self._lock:
            self._writer.execute("BEGIN IMMEDIATE")
            changed = 0
            for record_id in ids:
                changed += self._writer.execute(
                    "UPDATE feedback SET status = ? WHERE id = ?", (status, int(record_id))
                ).rowcount
            self._writer.execute("COMMIT")
        return changed

    def mark_pushed(self, ids: Sequence[int], when: str) -> None:
        """Record that these records were written to the Hub dataset."""
        with self._lock:
            self._writer.execute("BEGIN IMMEDIATE")
            self._writer.executemany(
                "UPDATE feedback SET pushed_at = ? WHERE id = ?", [(when, i) for i in ids]
            )
            self._writer.execute("COMMIT")

    def records(
        self,
        *,
        model: str | None = None,
        status: str | None = None,
        answer: str | None = None,
        contains: str | None = None,
        unpushed: bool = False,
        limit: int | None = None,
    ) -> list[FeedbackRecord]:
        """Records, newest first, filtered; `answer` is "up", "corrected" or a label."""
        where, params = [], []
        for column, value in (("model", model), ("status", status)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        if answer == "corrected":
            where.append("answer != ?")
            params.append(UP)
        elif answer:
            where.append("(answer = ? OR (answer != 'up' AND label = ?))")
            params += [answer, answer]
        if contains:
            where.append("instr(lower(text), lower(?)) > 0")
            params.append(contains)
        if unpushed:
            where.append("pushed_at IS NULL")
        sql = f"SELECT {', '.join(COLUMNS)} FROM feedback"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._reader() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [_record(row) for row in rows]

    def count(self) -> int:
        """How many records are stored."""
        with self._reader() as conn:
            return int(conn.execute("SELECT count(*) FROM feedback").fetchone()[0])

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        with closing(connect(self.path)) as conn:
            yield conn

    def close(self) -> None:
        """Checkpoint the log into the database file and close the writer."""
        with self._lock:
            try:
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._writer.close()


def _record(row: Sequence[object]) -> FeedbackRecord:
    values = dict(zip(COLUMNS, row, strict=True))
    scores = json.loads(str(values["scores"]))
    return FeedbackRecord(
        id=int(str(values["id"])),
        uid=str(values["uid"]),
        created_at=str(values["created_at"]),
        text=str(values["text"]),
        model=str(values["model"]),
        model_revision=str(values["model_revision"]),
        predicted=str(values["predicted"]),
        scores=tuple((str(k), float(v)) for k, v in scores.items()),
        answer=str(values["answer"]),
        label=str(values["label"]),
        note=str(values["note"]),
        session_hash=str(values["session_hash"]),
        status=str(values["status"]),
        pushed_at=None if values["pushed_at"] is None else str(values["pushed_at"]),
    )


def read_accepted(path: Path) -> list[FeedbackRecord]:
    """The accepted records of a feedback database, read-only (for the fine-tuning recipe).

    Raises:
        FeedbackSchemaError: the file is not a feedback database, or is from a newer release.
    """
    if not path.is_file():
        raise FeedbackSchemaError(f"{path}: no such file")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version == 0 or version > SCHEMA_VERSION:
                raise FeedbackSchemaError(
                    f"{path}: schema version {version}; this release reads feedback databases "
                    f"of version 1 to {SCHEMA_VERSION}"
                )
            rows = conn.execute(
                f"SELECT {', '.join(COLUMNS)} FROM feedback WHERE status = 'accepted' ORDER BY id"
            ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise FeedbackSchemaError(f"{path}: not a feedback database ({exc})") from None
    return [_record(row) for row in rows]
