"""Trained checkpoints of the hub, pinned by sha256 (weight metadata, not code).

Each row registers a `family.tag` name that loads a file from checkpoints/ onto an
architecture variant of its family. The checksum here is the one verified at load time;
the model card beside the file carries the same number plus how the weights were made.
"""
from __future__ import annotations

from dataclasses import dataclass

from .registry import get_entry, register

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


PRETRAINED: tuple = ()


def _register_all() -> None:
    for p in PRETRAINED:
        base = get_entry(p.arch).config
        register(
            base.replace(
                name=p.name, checkpoint=p.file, sha256=p.sha256, domain=p.domain,
                native_size=p.size, license=DATA_LICENSE, test_only=False,
                description=f"{base.description} ({p.domain}, {p.size}px)",
            ),
            get_entry(p.arch).builder,
        )


_register_all()
