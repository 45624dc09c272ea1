"""Shared fixtures: small synthetic photos and masks made on the fly (no data files needed)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import torch  # noqa: E402

torch.set_num_threads(2)


def synthetic_photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth colourful image with some edges (uint8 RGB)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([
        127 + 100 * np.sin(xx / max(w, 1) * 6.0 + rng.uniform(0, 3)),
        127 + 100 * np.cos(yy / max(h, 1) * 5.0 + rng.uniform(0, 3)),
        127 + 60 * np.sin((xx + yy) / max(h + w, 1) * 9.0),
    ], axis=-1)
    img[h // 3 : h // 2, :] += 40
    return np.clip(img, 0, 255).astype(np.uint8)


def photo_folder(root: Path, count: int, h: int, w: int) -> Path:
    """A folder of `count` synthetic photos (im0.png, im1.png, ...)."""
    from PIL import Image

    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(synthetic_photo(h, w, seed=i)).save(root / f"im{i}.png")
    return root


@pytest.fixture
def photo() -> np.ndarray:
    return synthetic_photo(96, 128)


@pytest.fixture
def photo_file(tmp_path, photo) -> Path:
    from PIL import Image

    p = tmp_path / "photo.png"
    Image.fromarray(photo).save(p)
    return p


@pytest.fixture
def mask_file(tmp_path, photo) -> Path:
    from PIL import Image

    m = np.zeros(photo.shape[:2], dtype=np.uint8)
    m[30:60, 40:90] = 255
    p = tmp_path / "mask.png"
    Image.fromarray(m).save(p)
    return p


# -- a running app for API and browser tests ---------------------------------------------------

import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """Start `python app.py` as a user would (its own process, a free port, small queue)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("app") / "app.log"
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), HUB_QUEUE_SIZE="2", GRADIO_ANALYTICS_ENABLED="False",
               GRADIO_TEMP_DIR=str(tmp_path_factory.mktemp("gradio_tmp")))
    f = open(log, "w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    import urllib.request

    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited early:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except Exception:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError(f"app did not start:\n{log.read_text()[-3000:]}")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    f.close()
