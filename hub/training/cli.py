"""`python -m hub.train`: train one model family on an image folder.

Example (faces, 128 px, 30 minutes, adversarial term off):
    python -m hub.train --family deepfill_v1 --name deepfill_v1.faces_128 \
        --train ../shared/data/faces/train --val ../shared/data/faces/val \
        --size 128 --batch 8 --minutes 30 --arch-override cnum=16 --no-adv --domain faces

Several GPUs: `torchrun --nproc_per_node=N -m hub.train ...` (DistributedDataParallel).
"""
from __future__ import annotations

import argparse
import ast
import sys
from typing import List, Optional

from .recipes import RECIPES


def _overrides(items: List[str]) -> dict:
    out = {}
    for it in items:
        if "=" not in it:
            raise SystemExit(f"error: expected key=value, got {it!r}")
        k, v = it.split("=", 1)
        try:
            out[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            out[k] = v
    return out


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hub.train", description="Train an inpainting model of the hub.")
    p.add_argument("--family", required=True, choices=sorted(RECIPES))
    p.add_argument("--name", required=True, help="output name, e.g. deepfill_v1.faces_128")
    p.add_argument("--train", required=True, help="training image folder")
    p.add_argument("--val", default="", help="validation image folder (fixed subset)")
    p.add_argument("--arch", default="", help="registry architecture variant (default <family>.base)")
    p.add_argument("--arch-override", nargs="*", default=[], help="key=value changes to the architecture")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--minutes", type=float, default=0.0, help="time budget (0 = none)")
    p.add_argument("--lr", type=float, default=0.0)
    p.add_argument("--no-adv", action="store_true", help="switch the adversarial term off (recorded in the card)")
    p.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-count", type=int, default=48)
    p.add_argument("--val-every", type=int, default=250)
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    p.add_argument("--runs-dir", default="runs")
    p.add_argument("--export-dir", default="")
    p.add_argument("--init", default="", help="warm-start weights (safetensors) when no run state exists")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--domain", default="")
    p.add_argument("--recipe-param", nargs="*", default=[],
                   help="key=value changes to the family's loss weights (recorded in the card), e.g. gamma=0")
    p.add_argument("--mask-kinds", nargs="*", default=[],
                   help="training mask kinds instead of the recipe's: free_form, box, blob, center (recorded in the card)")
    p.add_argument("--ema", type=float, default=0.999, help="decay of the exported weight average (0 = export the raw weights)")
    a = p.parse_args(argv)
    from .trainer import TrainConfig, Trainer

    cfg = TrainConfig(
        family=a.family, name=a.name, train_dir=a.train, val_dir=a.val, arch=a.arch, arch_overrides=_overrides(a.arch_override),
        size=a.size, batch=a.batch, steps=a.steps, minutes=a.minutes, lr=a.lr, adversarial=not a.no_adv, seed=a.seed,
        bf16=not a.fp32, val_count=a.val_count, val_every=a.val_every, checkpoint_minutes=a.checkpoint_minutes,
        runs_dir=a.runs_dir, init=a.init, device=a.device, threads=a.threads, domain=a.domain,
        recipe_params=_overrides(a.recipe_param), mask_kinds=tuple(a.mask_kinds), ema_decay=a.ema,
    )
    if a.export_dir:
        cfg.export_dir = a.export_dir
    try:
        metrics = Trainer(cfg).fit()
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print({k: round(v, 4) for k, v in metrics.items()})
    return 0
