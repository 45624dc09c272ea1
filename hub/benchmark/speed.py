"""Speed and size of every architecture: `python -m hub.benchmark.speed`.

For each model: parameter count, MACs of one forward pass at 256x256 (torch's FlopCounterMode:
convolutions, transposed convolutions and matrix products; MACs = FLOPs / 2), the median
wall time of the network's forward pass at 512x512 (batch 1, no grad, after one warm-up run)
in fp32 and bf16 autocast, and the peak resident memory of a fresh process doing that.
Each model is measured in its own subprocess so that memory figures do not mix.
Writes leaderboard/speed.csv.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def measure(name: str, size: int = 512, repeats: int = 5, threads: int = 2) -> Dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ..inference import create_inpainter
    from ..registry import get_config

    torch.set_num_threads(threads)
    cfg = get_config(name)
    inp = create_inpainter(name, device="cpu", weights="random")
    row: Dict = {"model": name, "family": cfg.family, "params": inp.parameter_count(), "threads": threads}
    if cfg.kind == "classical":
        import numpy as np

        rgb = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
        hole = np.zeros((size, size), bool)
        hole[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = True
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            inp.solver(rgb, hole)
            times.append(time.perf_counter() - t0)
        row.update(macs_256_g=0.0, fp32_512_s=sorted(times)[len(times) // 2], bf16_512_s="", peak_rss_mb=round(_peak_rss_mb(), 1))
        return row
    net = inp.net.eval()
    side = cfg.native_size if cfg.fixed_size else size

    def inputs(s):
        x = torch.rand(1, 3, s, s) * 2 - 1
        m = torch.zeros(1, 1, s, s)
        m[..., s // 4 : 3 * s // 4, s // 4 : 3 * s // 4] = 1
        return x * (1 - m), m

    with torch.no_grad():
        s256 = cfg.native_size if cfg.fixed_size else 256
        with FlopCounterMode(display=False) as fc:
            net(*inputs(s256))
        row["macs_256_g"] = round(fc.get_total_flops() / 2 / 1e9, 3)
        x, m = inputs(side)
        for precision in ("fp32", "bf16"):
            times = []
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                net(x, m)
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    net(x, m)
                    times.append(time.perf_counter() - t0)
            row[f"{precision}_512_s"] = round(sorted(times)[len(times) // 2], 4)
    row["input_side"] = side
    row["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    return row


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hub.benchmark.speed")
    p.add_argument("--models", nargs="*", help="default: every model (test-only tiny variants excluded, base architectures included)")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=str(ROOT / "leaderboard" / "speed.csv"))
    p.add_argument("--one", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.one:
        print(json.dumps(measure(a.one, a.size, a.repeats, a.threads)))
        return 0
    from ..registry import list_models

    names = a.models or [n for n in list_models(include_test_only=True) if not n.endswith(".tiny") and "mnist" not in n]
    rows = []
    for name in names:
        r = subprocess.run([sys.executable, "-m", "hub.benchmark.speed", "--one", name, "--size", str(a.size),
                            "--repeats", str(a.repeats), "--threads", str(a.threads)], cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{name}: failed: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}", file=sys.stderr)
            continue
        row = json.loads(r.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{name:32s} params {row['params'] / 1e6:6.2f} M  MACs@256 {row['macs_256_g']:7.2f} G  "
              f"fp32@{a.size} {row['fp32_512_s']}s  bf16 {row['bf16_512_s']}s  peak RSS {row['peak_rss_mb']} MB", flush=True)
    fields = ["model", "family", "params", "macs_256_g", "fp32_512_s", "bf16_512_s", "input_side", "peak_rss_mb", "threads"]
    out = Path(a.out)
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
