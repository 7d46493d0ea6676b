"""Pushes feedback records to a private Hub dataset on a schedule (a Space's disk does not persist).

huggingface_hub's CommitScheduler does the scheduling and the commits; this adds only what to commit:
each push writes the records not pushed yet (accepted ones, or all) to a new JSON lines file under
`data/`, so the dataset only grows, and a Space that restarts with an empty disk overwrites nothing.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from huggingface_hub import CommitScheduler, HfApi

if TYPE_CHECKING:
    from huggingface_hub import CommitInfo

from sentiment_demo.feedback.store import FeedbackStore

logger = logging.getLogger("sentiment_demo.feedback")


class FeedbackPusher(CommitScheduler):
    """A CommitScheduler whose every push first writes the records not yet pushed.

    Args:
        store: the feedback database.
        repo_id: OWNER/NAME of the dataset, created private if it does not exist.
        which: "accepted" (only records the owner accepted) or "all" (every new record).
        every_minutes: the time between pushes.
        folder: a local folder for the files being pushed.
        hf_api: an HfApi (tests pass a stand-in); the default reads HF_TOKEN.
    """

    def __init__(
        self,
        store: FeedbackStore,
        repo_id: str,
        which: str,
        every_minutes: float,
        folder: Path,
        hf_api: HfApi | None = None,
    ) -> None:
        # Set before the scheduler starts: its thread pushes once at once.
        self.store = store
        self.which = which
        super().__init__(
            repo_id=repo_id,
            repo_type="dataset",
            folder_path=folder,
            path_in_repo="data",
            every=every_minutes,
            private=True,
            allow_patterns=["*.jsonl"],
            hf_api=hf_api,
        )

    def push_to_hub(self) -> CommitInfo | None:
        """Write the records not yet pushed to a new file and commit it; mark them pushed."""
        records = self.store.records(
            unpushed=True, status="accepted" if self.which == "accepted" else None
        )
        if not records:
            return None
        records.sort(key=lambda r: r.id)
        now = datetime.now(UTC)
        path = Path(self.folder_path) / f"feedback-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.jsonl"
        with self.lock, path.open("w", encoding="utf-8") as handle:
            for record in records:
                row = record.as_row()
                row.pop("pushed_at")
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        try:
            info = super().push_to_hub()
        except BaseException:
            path.unlink(missing_ok=True)  # the records stay unpushed and go in the next file
            raise
        self.store.mark_pushed([r.id for r in records], now.isoformat(timespec="seconds"))
        path.unlink(missing_ok=True)
        logger.info("pushed %d feedback records to %s", len(records), self.repo_id)
        return info
