"""`python -m hub.training.publish RUN_DIR/NAME.safetensors`: ship an exported checkpoint.

Copies the weights and model card into checkpoints/, checks the card's sha256 against the
bytes, and adds (or replaces) its row in hub/pretrained.json, which pins that sha256.
Publish only after the benchmark shows the new file is better than the one it replaces:
every committed checkpoint stays in the history that each clone downloads.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from ..checkpoint import CHECKPOINT_DIR, sha256_file
from ..pretrained import TABLE


def publish(src: Path, dest_dir: Path = CHECKPOINT_DIR, table: Path = TABLE, max_side: int = 0) -> dict:
    card_path = src.with_suffix(".json")
    card = json.loads(card_path.read_text())
    digest = sha256_file(src)
    if card.get("sha256") != digest:
        raise SystemExit(f"error: {src.name}: the card's sha256 does not match the file")
    dest_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest_dir / src.name)
    shutil.copy2(card_path, dest_dir / card_path.name)
    base_arch = card["arch_variant"]
    from ..registry import get_config

    base = get_config(base_arch).arch
    overrides = {k: v for k, v in card["arch"].items() if base.get(k) != v and not (isinstance(v, list) and list(base.get(k, [])) == v)}
    row = {"name": card["name"], "arch": base_arch, "file": src.name, "sha256": digest, "domain": card["domain"],
           "size": card["image_size"], "arch_overrides": overrides}
    if max_side:
        row["max_side"] = max_side
    rows = json.loads(table.read_text()) if table.is_file() else []
    rows = [r for r in rows if r["name"] != row["name"]] + [row]
    table.write_text(json.dumps(sorted(rows, key=lambda r: r["name"]), indent=2) + "\n")
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m hub.training.publish")
    p.add_argument("weights", help="an exported .safetensors with its .json card beside it")
    p.add_argument("--max-side", type=int, default=0,
                   help="run without resizing up to this side (default: the training size)")
    a = p.parse_args(argv)
    print(json.dumps(publish(Path(a.weights), max_side=a.max_side), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
