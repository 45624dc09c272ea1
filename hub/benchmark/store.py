"""The per-image results store: append-only JSON lines, one row per (model, image, mask).

Each row is written with a single `os.write` on a file opened with O_APPEND and then
fsync'ed, so a killed run (even kill -9) leaves whole rows only; it loses at most the row
being computed. A file whose last line is cut (truncated by other means) is reported with
a clear error and never rewritten; `repair()` moves it aside and keeps the whole rows.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Dict, List, Tuple


class StoreError(RuntimeError):
    """The results store is unreadable (truncated or corrupt)."""


ROW_KEY_FIELDS = ("model", "checkpoint_sha256", "config_hash", "image_sha256", "mask_id", "metric_version", "eval_size")


def row_key(row: Dict) -> str:
    return "|".join(str(row[k]) for k in ROW_KEY_FIELDS)


def read_rows(path: Path) -> List[Dict]:
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        whole = data.count(b"\n")
        raise StoreError(
            f"results store {path.name} ends in a cut row (truncated file). It was left untouched; "
            f"run with --repair to keep its {whole} whole rows and move the original aside"
        )
    rows = []
    for i, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            raise StoreError(f"results store {path.name}: line {i} is not valid JSON; left untouched (see --repair)") from None
    return rows


def repair(path: Path) -> int:
    """Keep the whole valid rows of a damaged store; the original is kept as <name>.damaged."""
    path = Path(path)
    data = path.read_bytes()
    good = []
    for line in data.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        try:
            json.loads(line)
            good.append(line)
        except ValueError:
            continue
    backup = path.with_name(path.name + ".damaged")
    os.replace(path, backup)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(b"".join(good))
    os.replace(tmp, path)
    return len(good)


class ResultsStore:
    """Rows for one dataset across the main file and any shard files beside it."""

    def __init__(self, directory: Path, dataset: str, shard: str = ""):
        self.directory = Path(directory)
        self.dataset = dataset
        suffix = f".shard-{shard.replace('/', '-of-')}" if shard else ""
        self.path = self.directory / f"{dataset}{suffix}.jsonl"

    def files(self) -> List[Path]:
        return sorted(self.directory.glob(f"{self.dataset}.jsonl")) + sorted(self.directory.glob(f"{self.dataset}.shard-*.jsonl"))

    def load(self) -> Dict[str, Dict]:
        """All rows of the dataset (main + shards), deduplicated by key."""
        rows: Dict[str, Dict] = {}
        for f in self.files():
            for r in read_rows(f):
                rows.setdefault(row_key(r), r)
        return rows

    def append(self, row: Dict) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(row, sort_keys=True, separators=(",", ":")) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _rewrite(self, rows: Dict[str, Dict]) -> int:
        """Replace the main file by `rows` (sorted by key, atomic), then drop the shard files."""
        main = self.directory / f"{self.dataset}.jsonl"
        tmp = main.with_name(f".{main.name}.tmp")
        ordered = sorted(rows.values(), key=row_key)
        tmp.write_bytes(b"".join((json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n").encode() for r in ordered))
        os.replace(tmp, main)
        for f in self.directory.glob(f"{self.dataset}.shard-*.jsonl"):
            f.unlink()
        return len(ordered)

    def merge_shards(self) -> int:
        """Fold shard files into the main file (idempotent); returns the row count."""
        return self._rewrite(self.load())

    def prune(self, keep: Callable[[str, Dict], bool]) -> Tuple[int, int]:
        """Keep only the rows for which keep(key, row) holds; shards are folded in.
        Returns (kept, dropped)."""
        rows = self.load()
        kept = {k: r for k, r in rows.items() if keep(k, r)}
        self._rewrite(kept)
        return len(kept), len(rows) - len(kept)
