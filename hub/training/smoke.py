"""Training smoke run: `python -m hub.training.smoke` (a few hundred steps at 64x64 on a
handful of images, every family, paper-width architectures, the family's own losses).

Prints each family's hole L1 on those images (fixed masks) before and after; a family whose
hole L1 does not drop has a broken loss or gradient path.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import List, Optional

import torch

from .. import ops
from ..io import centre_square
from ..masks import derive_seed, free_form, central_square
from .recipes import RECIPES
from .trainer import TrainConfig, Trainer
from .data import ImageBank


def hole_l1(trainer: Trainer, x: torch.Tensor, m: torch.Tensor) -> float:
    trainer.net.eval()
    with torch.no_grad():
        out = trainer.net(trainer._net_input(x, m), m)["out"].float()
    trainer.net.train()
    pred = ops.from_range(out, *trainer.range)
    return float(((pred - x).abs() * m).sum() / (m.sum() * 3) * 100)


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hub.training.smoke")
    p.add_argument("--images", required=True, help="a folder; the first --count images are used")
    p.add_argument("--count", type=int, default=8)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--families", nargs="*", default=sorted(RECIPES))
    a = p.parse_args(argv)
    bank = ImageBank(a.images, a.size, limit=a.count, desc="images")
    xs, ms = [], []
    for i, rgb in enumerate(bank.images):
        xs.append(torch.from_numpy(centre_square(rgb, a.size)).permute(2, 0, 1).float() / 255)
        ms.append(torch.from_numpy(central_square(a.size, a.size) if i % 2 else free_form(a.size, a.size, 3, derive_seed("smoke", i))))
    x, m = torch.stack(xs), torch.stack(ms)[:, None].float()
    print(f"{'family':20s} {'hole L1 before':>15s} {'after':>8s} {'steps':>6s} {'time':>7s}")
    failed = 0
    for fam in a.families:
        overrides = {"image_size": a.size} if fam == "context_encoder" else {}  # its FC layer is size-bound
        tr = Trainer(TrainConfig(family=fam, name="smoke", train_dir=a.images, size=a.size, batch=4, bf16=False, adversarial=True,
                                 arch_overrides=overrides, lr=5e-4 if fam != "msanet" else 3e-4))
        before = hole_l1(tr, x, m)
        t0 = time.time()
        for step in range(a.steps):
            idx = torch.tensor([(step * 4 + j) % len(x) for j in range(4)])
            tr.train_step(x[idx], m[idx])
        after = hole_l1(tr, x, m)
        failed += after >= before
        print(f"{fam:20s} {before:15.2f} {after:8.2f} {a.steps:6d} {time.time() - t0:6.0f}s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
