"""Command line: list, single inpaint, folder batch with a bad file, clear errors."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image

from conftest import ROOT, synthetic_photo


def run(*args):
    return subprocess.run([sys.executable, "-m", "hub", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_list_shows_models_and_status():
    r = run("list")
    assert r.returncode == 0, r.stderr
    assert "cv2_telea" in r.stdout and "builtin" in r.stdout and "paper" in r.stdout.splitlines()[0]
    assert "tiny" not in r.stdout
    assert "deepfill_v1.tiny" in run("list", "--all").stdout


def test_inpaint_single_file_keeps_known_pixels(tmp_path, photo_file, mask_file):
    out = tmp_path / "out.png"
    r = run("inpaint", "--model", "cv2_telea", "--image", str(photo_file), "--mask", str(mask_file), "--out", str(out))
    assert r.returncode == 0, r.stderr
    src = np.array(Image.open(photo_file))
    got = np.array(Image.open(out))
    hole = np.array(Image.open(mask_file)) > 127
    assert np.array_equal(got[~hole], src[~hole])
    assert not np.array_equal(got[hole], src[hole] * 0)


def test_batch_folder_continues_past_bad_files(tmp_path):
    imgs, masks, outs = tmp_path / "imgs", tmp_path / "masks", tmp_path / "outs"
    imgs.mkdir(), masks.mkdir()
    for i in range(3):
        Image.fromarray(synthetic_photo(40, 50, i)).save(imgs / f"p{i}.png")
        m = np.zeros((40, 50), np.uint8)
        m[10:20, 10:30] = 255
        Image.fromarray(m).save(masks / f"p{i}.png")
    (imgs / "broken.png").write_text("not an image")
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(masks / "p2.png")  # wrong size for p2
    r = run("inpaint", "--model", "cv2_ns", "--image", str(imgs), "--mask", str(masks), "--out", str(outs))
    assert r.returncode == 1
    assert sorted(p.name for p in outs.iterdir()) == ["p0.png", "p1.png"]
    assert "broken.png" in r.stderr and "p2.png" in r.stderr
    assert "Traceback" not in r.stderr


def test_unknown_model_and_missing_file(tmp_path, photo_file, mask_file):
    r = run("inpaint", "--model", "nope", "--image", str(photo_file), "--mask", str(mask_file), "--out", str(tmp_path / "o.png"))
    assert r.returncode == 2 and "unknown model" in r.stderr and "Traceback" not in r.stderr
    r = run("inpaint", "--model", "cv2_telea", "--image", str(tmp_path / "missing.png"), "--mask", str(mask_file), "--out", str(tmp_path / "o.png"))
    assert r.returncode == 1 and "no such file" in r.stderr and "Traceback" not in r.stderr
