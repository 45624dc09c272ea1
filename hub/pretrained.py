"""Trained checkpoints of the hub, pinned by sha256 (weight metadata, not code).

Each row of hub/pretrained.json registers a `family.tag` name that loads a file from
checkpoints/ onto an architecture variant of its family (with its width overrides). The
checksum pinned there is the one verified at load time; the model card beside the weights
carries the same number plus how they were made. `python -m hub.training.publish` adds or
updates a row after the benchmark shows the checkpoint is worth shipping.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict

from .registry import get_entry, register

TABLE = Path(__file__).with_name("pretrained.json")

DATA_LICENSE = (
    "Weights: MIT (this project). Trained on images from public research datasets "
    "(CelebA / Places365 / ImageNet samples) that keep their own non-commercial research terms."
)


@dataclass(frozen=True)
class Pretrained:
    name: str          # e.g. "deepfill_v1.faces_256"
    arch: str          # the architecture variant it loads onto, e.g. "deepfill_v1.base"
    file: str          # under checkpoints/
    sha256: str
    domain: str        # "faces" or "scenes"
    size: int          # training resolution
    arch_overrides: Dict[str, Any] = field(default_factory=dict)
    max_side: int = 0  # largest side run without resizing; 0 = the training size. Convolutional
                       # models trained on multi-scale crops of scenes may run above it.


def load_table() -> list:
    if not TABLE.is_file():
        return []
    return [Pretrained(**row) for row in json.loads(TABLE.read_text())]


def _register_all() -> None:
    for p in load_table():
        base = get_entry(p.arch).config
        arch = {**base.arch, **p.arch_overrides}
        register(
            base.replace(
                name=p.name, arch=arch, checkpoint=p.file, sha256=p.sha256, domain=p.domain,
                native_size=p.size, max_side=p.max_side or p.size, license=DATA_LICENSE, test_only=False,
                description=f"{base.description} ({p.domain}, {p.size}px)",
            ),
            get_entry(p.arch).builder,
        )


_register_all()
