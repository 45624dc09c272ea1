"""App timing: `python -m hub.benchmark.app_bench` (figures for the README).

Starts `python app.py` as a user would, measures the time from launch to the first page,
then sends a 512x512 photo with a hole of about 20% through every available model via
gradio_client (`/inpaint`) several times and reports the median end-to-end time, and the
app's resident memory afterwards (every model then loaded).
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import List, Optional

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hub.benchmark.app_bench")
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args(argv)
    from PIL import Image
    from gradio_client import Client, handle_file

    from ..masks import derive_seed, free_form
    from ..service import available_models

    port = _port()
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except Exception:
                if proc.poll() is not None or time.perf_counter() - t0 > 180:
                    print("app did not start", file=sys.stderr)
                    return 1
                time.sleep(0.1)
        start_s = time.perf_counter() - t0
        rss_idle = _rss_mb(proc.pid)
        tmp = Path(tempfile.mkdtemp())
        photo = np.array(Image.open(ROOT / "examples" / "astronaut.png").convert("RGB").resize((512, 512)))
        hole = free_form(512, 512, 1, derive_seed("app_bench"))
        Image.fromarray(photo).save(tmp / "photo.png")
        layer = np.zeros((512, 512, 4), np.uint8)
        layer[hole] = 255
        Image.fromarray(layer, "RGBA").save(tmp / "hole.png")
        models = available_models()
        client = Client(url, verbose=False)
        payload = {"background": handle_file(str(tmp / "photo.png")), "layers": [handle_file(str(tmp / "hole.png"))], "composite": None}
        times = []
        for i in range(a.repeats + 1):
            t = time.perf_counter()
            client.predict(payload, None, models, api_name="/inpaint")
            if i:  # the first call loads the models
                times.append(time.perf_counter() - t)
        rss = _rss_mb(proc.pid)
        print(f"app start to first page: {start_s:.1f} s; idle RSS {rss_idle:.0f} MB")
        print(f"512x512 photo, hole {hole.mean() * 100:.1f}%, {len(models)} models ({', '.join(models)}): "
              f"median {statistics.median(times):.2f} s end to end over {len(times)} calls (min {min(times):.2f}, max {max(times):.2f})")
        print(f"resident memory with every model loaded: {rss:.0f} MB")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
