"""Benchmark runner: every model x image x mask, scored, stored per image, aggregated.

Evaluation protocol (also in leaderboard/README.md):
- images: every file of the dataset folder, centre-cropped to a square and resized (area) to
  the evaluation size (256 by default); identified by the sha256 of the file's bytes;
- masks: "irregular" = the NVIDIA irregular masks resized (nearest) to the evaluation size
  and binned by the ratio measured there ((lo, hi] edges, hub.masks); "freeform" = the
  built-in generator, same bins; "center" = central square of half the side (25%);
  "square25" = a square covering 25% at a seeded random position; "mosaic" = the mosaic
  task of paper 001: the central square holds a 12-px mosaic of the truth that networks
  see (classical solvers use known pixels only);
- each (image, mask) pair is drawn by seeded permutations (sha256-derived seeds), so the
  task list is identical on every machine; a manifest CSV records it;
- every model runs through the one Inpainter call at the evaluation size ("auto" strategy,
  fp32 unless --precision bf16) and is scored on its composited output.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .. import masks as M
from ..io import ImageLoadError, centre_square, list_images, load_image
from ..metrics import METRIC_VERSION as PIXEL_VERSION
from ..metrics import pixel_metrics
from .store import ResultsStore, StoreError, read_rows, repair, row_key

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
DEFAULT_DATASETS = {"faces": "faces/test", "scenes": "scenes/test", "streetview": "streetview/test"}
METRICS = ("l1", "l1_hole", "mse", "psnr", "ssim", "tv", "lpips")
KINDS = ("irregular", "freeform", "center", "square25", "mosaic")
MOSAIC_UNIT = 12
FIXED_BIN = "fixed"


@dataclass
class Task:
    dataset: str
    image_path: str
    image_id: str
    image_sha256: str
    mask_kind: str
    mask_id: str
    bin: str
    hole_ratio: float
    mask: np.ndarray


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def eval_image(path: Path, size: int) -> np.ndarray:
    """Centre square crop, area resize to size x size, RGB uint8."""
    return centre_square(load_image(path).rgb, size)


@lru_cache(maxsize=None)
def parameter_count(name: str) -> int:
    from ..inference import create_inpainter

    return create_inpainter(name, device="cpu", weights="random").parameter_count()


def build_tasks(dataset: str, folder: str, size: int, kinds: Sequence[str], per_bin: int, masks_dir: Optional[str], seed: int = 0) -> List[Task]:
    files = list_images(folder)
    shas = [_sha256(p) for p in files]
    order = lambda tag: np.random.default_rng(M.derive_seed(dataset, tag, seed)).permutation(len(files))  # noqa: E731
    tasks: List[Task] = []

    def add(i, kind, mask_id, m):
        r = M.hole_ratio(m)
        b = M.bin_label(r) if kind in ("irregular", "freeform") else FIXED_BIN
        tasks.append(Task(dataset, str(files[i]), files[i].name, shas[i], kind, mask_id, b, r, m))

    for kind in kinds:
        if kind == "irregular":
            if not masks_dir or not Path(masks_dir).is_dir():
                raise FileNotFoundError(f"irregular masks folder {masks_dir} not found (use --kinds freeform for built-in masks)")
            irr = M.IrregularMasks(masks_dir)
            for k in range(len(M.BINS)):
                imgs = order(f"irregular{k}")[:per_bin]
                picked = irr.pick(k, len(imgs), M.derive_seed(dataset, "masks", k, seed), (size, size))
                for i, (mid, m) in zip(imgs, picked):
                    add(int(i), kind, f"nvidia:{irr.files[mid].stem}", m)
        elif kind == "freeform":
            for k in range(len(M.BINS)):
                for j, i in enumerate(order(f"freeform{k}")[:per_bin]):
                    s = M.derive_seed(dataset, "freeform", k, j, seed)
                    add(int(i), kind, f"freeform:{k}:{s}", M.free_form(size, size, k, s))
        elif kind == "center":
            for i in order("center")[:per_bin]:
                add(int(i), kind, "center:0.5", M.central_square(size, size))
        elif kind == "mosaic":
            # 001's mosaic task: the central hole holds a 12-px mosaic of the truth, not zeros
            for i in order("mosaic")[:per_bin]:
                add(int(i), kind, f"mosaic:center:{MOSAIC_UNIT}", M.central_square(size, size))
        elif kind == "square25":
            for i in order("square25")[:per_bin]:
                s = M.derive_seed(dataset, "square25", shas[int(i)], seed)
                add(int(i), kind, f"square25:{s}", M.random_square(size, size, s))
        else:
            raise ValueError(f"unknown mask kind {kind!r}; choose from {', '.join(KINDS)}")
    return tasks


def write_manifest(tasks: List[Task], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["dataset", "image_id", "image_sha256", "mask_kind", "mask_id", "hole_ratio", "bin"])
        for t in tasks:
            w.writerow([t.dataset, t.image_id, t.image_sha256, t.mask_kind, t.mask_id, f"{t.hole_ratio:.6f}", t.bin])
    os.replace(tmp, path)


def model_identity(name: str, precision: str, size: int) -> Tuple[str, str]:
    """(checkpoint sha256 or 'none', hash of everything else that shapes the output)."""
    from ..registry import get_config

    cfg = get_config(name)
    ident = {k: getattr(cfg, k) for k in ("family", "arch", "native_size", "fixed_size", "max_side", "input_range", "pad_mod", "prefill")}
    ident["precision"] = precision
    ident["strategy"] = "auto"
    from .. import inference

    if inference.resamples_at(cfg, size):
        ident["resampling"] = inference.RESAMPLING
    blob = json.dumps(ident, sort_keys=True, default=list).encode()
    return cfg.sha256 or "none", hashlib.sha256(blob).hexdigest()[:16]


def task_keys(tasks: List[Task], models: Sequence[str], size: int, precision: str,
              shard: Tuple[int, int] = (0, 1)) -> List[Tuple[str, Dict, Task]]:
    """(model, key fields of its row, task) for every model x task of this run (this shard)."""
    out = []
    for name in models:
        ck, ch = model_identity(name, precision, size)
        for idx, t in enumerate(tasks):
            if idx % shard[1] == shard[0]:
                out.append((name, {"model": name, "checkpoint_sha256": ck, "config_hash": ch, "image_sha256": t.image_sha256,
                                   "mask_id": t.mask_id, "metric_version": f"{PIXEL_VERSION}", "eval_size": size}, t))
    return out


def run_dataset(dataset: str, tasks: List[Task], models: Sequence[str], store: ResultsStore, size: int,
                precision: str = "fp32", shard: Tuple[int, int] = (0, 1), lpips_metric=None, quiet: bool = False) -> Dict[str, str]:
    """Compute every missing row. Returns {model: note} for models that could not run."""
    import torch
    from tqdm import tqdm

    from .. import ops
    from ..checkpoint import CheckpointError
    from ..inference import create_inpainter, timed_inpaint

    done = store.load()
    notes: Dict[str, str] = {}
    todo = [(name, key, t) for name, key, t in task_keys(tasks, models, size, precision, shard) if row_key(key) not in done]
    bar = tqdm(total=len(todo), desc=f"benchmark {dataset}", unit="img", disable=quiet, dynamic_ncols=True)
    cache: Dict[str, np.ndarray] = {}
    current, inp = None, None
    for name, key, t in todo:
        if name != current:
            current = name
            try:
                inp = create_inpainter(name, device="auto", precision=precision)
            except CheckpointError as exc:
                notes[name] = str(exc)
                inp = None
        if inp is None:
            bar.update(1)
            continue
        if t.image_path not in cache:
            cache[t.image_path] = eval_image(Path(t.image_path), size)
        gt = cache[t.image_path]
        x = ops.to_tensor_image(gt)
        m = ops.to_tensor_mask(t.mask)
        fill = ops.to_tensor_image(M.mosaic(gt, MOSAIC_UNIT)) if t.mask_kind == "mosaic" else None
        res, seconds = timed_inpaint(inp, x, m, prefill=fill)
        out = np.where(t.mask[..., None], ops.to_uint8_image(res.image), gt)
        scores = pixel_metrics(out, gt, t.mask)
        if lpips_metric is not None:
            with torch.no_grad():
                scores["lpips"] = float(lpips_metric(ops.to_tensor_image(out), x)[0])
        row = dict(key, dataset=dataset, image_id=t.image_id, mask_kind=t.mask_kind, bin=t.bin,
                   hole_ratio=round(t.hole_ratio, 6), latency_s=round(seconds, 5), strategy=res.strategies[0],
                   **{k: (round(v, 6) if v == v else None) for k, v in scores.items()})
        store.append(row)
        bar.update(1)
    bar.close()
    return notes


def aggregate(dataset: str, tasks: List[Task], models: Sequence[str], store: ResultsStore, size: int, precision: str,
              notes: Dict[str, str]) -> List[Dict]:
    """One row per model x mask kind x bin: mean, std and n of every metric, latency, params."""
    from ..registry import get_config

    rows = store.load()
    wanted = {(t.image_sha256, t.mask_id) for t in tasks}
    out: List[Dict] = []
    for name in models:
        ck, ch = model_identity(name, precision, size)
        mine = [r for r in rows.values() if r["model"] == name and r["checkpoint_sha256"] == ck and r["config_hash"] == ch
                and r["eval_size"] == size and (r["image_sha256"], r["mask_id"]) in wanted]
        if not mine:
            continue
        cfg = get_config(name)
        params = parameter_count(name)
        latency = float(np.median([r["latency_s"] for r in mine]))
        groups: Dict[Tuple[str, str], List[Dict]] = {}
        for r in mine:
            groups.setdefault((r["mask_kind"], r["bin"]), []).append(r)
        for (kind, b), rs in sorted(groups.items()):
            row = {"dataset": dataset, "model": name, "family": cfg.family, "domain": cfg.domain, "kind": cfg.kind,
                   "mask_kind": kind, "bin": b, "n": len(rs)}
            for metric in METRICS:
                vals = np.array([r.get(metric) for r in rs if r.get(metric) is not None], dtype=np.float64)
                row[f"{metric}_mean"] = round(float(vals.mean()), 5) if len(vals) else ""
                row[f"{metric}_std"] = round(float(vals.std(ddof=1)), 5) if len(vals) > 1 else ""
            row["fid"] = ""
            row["latency_ms_median"] = round(latency * 1000, 2)
            row["params"] = params
            row["eval_size"] = size
            row["precision"] = precision
            row["checkpoint_sha256"] = ck
            row["note"] = notes.get("_perceptual", "")
            out.append(row)
    return out


def write_csv(rows: List[Dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fields = list(rows[0].keys()) if rows else ["dataset", "model"]
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


def default_models() -> List[str]:
    from ..inference import is_available
    from ..registry import list_models

    return [n for n in list_models() if is_available(n)]


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hub.benchmark", description="Score models on fixed, seeded masks; write leaderboard CSVs.")
    p.add_argument("--config", help="JSON file with any of the options below (flags override it)")
    p.add_argument("--datasets", nargs="*", help="name=folder pairs (default: faces, scenes, streetview test sets of ../shared/data)")
    p.add_argument("--size", type=int, default=None, help="evaluation size (default 256)")
    p.add_argument("--kinds", nargs="*", default=None, help=f"mask kinds: {', '.join(KINDS)} (default irregular center square25)")
    p.add_argument("--per-bin", type=int, default=None, help="images per bin / per fixed mask kind (default 50)")
    p.add_argument("--models", nargs="*", default=None, help="default: every registered model whose checkpoint is present")
    p.add_argument("--masks-dir", default=None)
    p.add_argument("--results-dir", default=None, help="per-image results store (default leaderboard/results)")
    p.add_argument("--out-dir", default=None, help="where <dataset>.csv is written (default leaderboard)")
    p.add_argument("--precision", default=None, choices=["fp32", "bf16"])
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--shard", default="", help="i/n: run only the i-th of n slices (merge with --merge)")
    p.add_argument("--merge", action="store_true", help="fold shard stores into the main store, then aggregate")
    p.add_argument("--repair", action="store_true", help="keep the whole rows of a truncated store (original kept as .damaged)")
    p.add_argument("--prune", action="store_true",
                   help="afterwards drop the stored rows of this run's models that it does not read "
                        "(replaced checkpoints, changed configs, other tasks); other models' rows stay")
    p.add_argument("--no-aggregate", action="store_true")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    conf = json.loads(Path(a.config).read_text()) if a.config else {}

    def opt(name, default):
        v = getattr(a, name)
        return v if v is not None else conf.get(name, default)

    size = int(opt("size", 256))
    kinds = list(opt("kinds", ["irregular", "center", "square25"]))
    per_bin = int(opt("per_bin", 50))
    precision = opt("precision", "fp32")
    seed = int(opt("seed", 0))
    masks_dir = opt("masks_dir", str(DEFAULT_DATA / "masks" / "nvidia_irregular"))
    results_dir = Path(opt("results_dir", str(ROOT / "leaderboard" / "results")))
    out_dir = Path(opt("out_dir", str(ROOT / "leaderboard")))
    ds_spec = opt("datasets", None)
    if ds_spec:
        datasets = dict(s.split("=", 1) for s in ds_spec) if isinstance(ds_spec, list) else dict(ds_spec)
    else:
        datasets = {k: str(DEFAULT_DATA / v) for k, v in DEFAULT_DATASETS.items()}
    shard = (0, 1)
    if a.shard:
        i, n = (int(v) for v in a.shard.split("/"))
        if not (0 <= i < n):
            print("error: --shard i/n needs 0 <= i < n", file=sys.stderr)
            return 2
        shard = (i, n)
        if a.prune:
            print("error: --prune needs the whole store; run it without --shard (after --merge)", file=sys.stderr)
            return 2
    models = list(opt("models", None) or default_models())
    from ..registry import UnknownModelError, get_config

    try:
        for m in models:
            get_config(m)
    except UnknownModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from ..metrics.perceptual import InceptionFeatures, LPIPSMetric

    lpips_metric, lpips_reason = LPIPSMetric.load()
    _, fid_reason = InceptionFeatures.load()
    perceptual_note = "; ".join(r for r in (("LPIPS empty: " + lpips_reason) if lpips_reason else "", ("FID empty: " + fid_reason) if fid_reason else "") if r)
    if perceptual_note:
        print(f"note: {perceptual_note}", file=sys.stderr)
    t0 = time.time()
    for ds, folder in datasets.items():
        try:
            tasks = build_tasks(ds, folder, size, kinds, per_bin, masks_dir, seed)
        except (FileNotFoundError, ValueError, ImageLoadError) as exc:
            print(f"error: {ds}: {exc}", file=sys.stderr)
            return 2
        write_manifest(tasks, out_dir / "manifests" / f"{ds}.csv")
        store = ResultsStore(results_dir, ds, a.shard)
        try:
            if a.repair:
                for f in store.files():
                    try:
                        read_rows(f)
                    except StoreError:
                        print(f"repaired {f.name}: kept {repair(f)} rows (original in {f.name}.damaged)", file=sys.stderr)
            if a.merge:
                print(f"{ds}: merged store holds {store.merge_shards()} rows", file=sys.stderr)
            else:
                notes = run_dataset(ds, tasks, models, store, size, precision, shard, lpips_metric, a.quiet)
                for m, note in notes.items():
                    print(f"warning: {m} skipped: {note}", file=sys.stderr)
            if not a.no_aggregate and not a.shard:
                notes = {"_perceptual": perceptual_note}
                rows = aggregate(ds, tasks, models, store, size, precision, notes)
                write_csv(rows, out_dir / f"{ds}.csv")
                print(f"{ds}: wrote {len(rows)} leaderboard rows to {out_dir / (ds + '.csv')}", file=sys.stderr)
            if a.prune and not a.shard:
                wanted = {row_key(key) for _, key, _ in task_keys(tasks, models, size, precision)}
                ran = set(models)
                kept, dropped = store.prune(lambda k, r: k in wanted or r["model"] not in ran)
                print(f"{ds}: pruned the store: kept {kept} rows, dropped {dropped}", file=sys.stderr)
        except StoreError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 3
    print(f"done in {time.time() - t0:.1f} s", file=sys.stderr)
    return 0
