"""Results of an interrupted eval, kept as JSON lines so the next run resumes where it stopped."""

import hashlib
import json
from pathlib import Path
from typing import Any

from assistant.settings import user_cache_dir


class Checkpoint:
    """Finished items by id. The first line records what the run was (its inputs and judge):
    a checkpoint of another run is ignored and replaced. `finish` deletes it."""

    def __init__(self, path: Path, run: dict[str, Any]) -> None:
        self.path = path
        self.run = json.loads(json.dumps(run, sort_keys=True, default=str))
        self.done: dict[str, Any] = {}
        lines = path.read_text("utf-8").splitlines() if path.is_file() else []
        if lines and _loads(lines[0]) == {"run": self.run}:
            for line in lines[1:]:
                record = _loads(line)  # a line cut short by the interruption is skipped
                if isinstance(record, dict) and "id" in record:
                    self.done[str(record["id"])] = record["result"]
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"run": self.run}) + "\n", "utf-8")

    def record(self, item_id: str, result: Any) -> None:
        """Keep one finished item, on disk at once."""
        self.done[item_id] = result
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps({"id": item_id, "result": result}) + "\n")

    def finish(self) -> None:
        self.path.unlink(missing_ok=True)


def checkpoint_for(command: str, run: dict[str, Any]) -> Checkpoint:
    """The checkpoint of this command with these inputs, in the user cache."""
    digest = hashlib.sha256(json.dumps(run, sort_keys=True, default=str).encode()).hexdigest()
    return Checkpoint(user_cache_dir() / "evals" / f"{command}-{digest[:16]}.jsonl", run)


def file_digest(path: Path) -> str:
    """A short content hash, so a checkpoint is only reused for the same input files."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _loads(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None
