"""Command line: `python -m hub list` and `python -m hub inpaint`.

Bad input ends in a one-line message and a non-zero exit; in a batch (folders) every
other file still finishes, and the exit code says that something failed.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Tuple

from .registry import UnknownModelError, get_config, list_models

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


def _cmd_list(args: argparse.Namespace) -> int:
    from .inference import checkpoint_status

    rows = [("name", "family", "kind", "native", "checkpoint", "paper")]
    for name in list_models(include_test_only=args.all):
        cfg = get_config(name)
        native = f"{cfg.native_size}px" if cfg.native_size else "any"
        rows.append((name, cfg.family, cfg.kind, native, checkpoint_status(name), cfg.paper))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(c.ljust(widths[i]) for i, c in enumerate(r[:5])) + "  " + r[5])
    return EXIT_OK


def _pairs(image: Path, mask: Path, out: Path) -> List[Tuple[Path, Path, Path]]:
    """(image, mask, output) triples: one file each, or folders matched by file stem."""
    if image.is_dir():
        if not mask.is_dir():
            raise SystemExit("error: --image is a folder, so --mask must be a folder too")
        masks = {p.stem: p for p in mask.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
        triples = []
        for p in sorted(image.iterdir()):
            if p.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            triples.append((p, masks.get(p.stem, mask / f"{p.stem}.png"), out / f"{p.stem}.png"))
        if not triples:
            raise SystemExit(f"error: no images found in {image}")
        return triples
    return [(image, mask, out)]


def _cmd_inpaint(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .checkpoint import CheckpointError
    from .inference import create_inpainter
    from .io import ImageLoadError, load_image, load_mask, save_image
    from . import ops
    import numpy as np

    try:
        inp = create_inpainter(args.model, device=args.device)
    except UnknownModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    triples = _pairs(Path(args.image), Path(args.mask), Path(args.out))
    failed = 0
    bar = tqdm(triples, desc=f"inpaint [{args.model}]", unit="img", disable=len(triples) == 1 or args.quiet)
    for img_path, mask_path, out_path in bar:
        try:
            loaded = load_image(img_path)
            hole = load_mask(mask_path, expected_shape=loaded.shape)
            out = inp(ops.to_tensor_image(loaded.rgb), ops.to_tensor_mask(hole), strategy=args.strategy)
            rgb = np.where(hole[..., None], ops.to_uint8_image(out), loaded.rgb)
            save_image(out_path, rgb, loaded.alpha)
        except (ImageLoadError, ValueError, OSError) as exc:
            failed += 1
            tqdm.write(f"error: {img_path.name}: {exc}", file=sys.stderr)
    if len(triples) > 1 and not args.quiet:
        print(f"{len(triples) - failed} written to {args.out}, {failed} failed", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m hub", description="The Inpainting Hub command line.")
    sub = p.add_subparsers(dest="command", required=True)
    pl = sub.add_parser("list", help="list registered models and their checkpoint status")
    pl.add_argument("--all", action="store_true", help="include the tiny test variants")
    pl.set_defaults(func=_cmd_list)
    pi = sub.add_parser("inpaint", help="inpaint an image (or a folder) with one model")
    pi.add_argument("--model", required=True, help="registered name, see `python -m hub list`")
    pi.add_argument("--image", required=True, help="image file, or a folder of images")
    pi.add_argument("--mask", required=True, help="mask file (white = hole), or a folder of same-named masks")
    pi.add_argument("--out", required=True, help="output file, or a folder for a batch")
    pi.add_argument("--strategy", default="auto", choices=["auto", "original", "resize", "crop"])
    pi.add_argument("--device", default="auto")
    pi.add_argument("--quiet", action="store_true")
    pi.set_defaults(func=_cmd_inpaint)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
