"""The app through its public API (gradio_client), as a remote user would call it."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from conftest import synthetic_photo
from test_io import _bomb_png

from hub import service

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402


def _editor(tmp_path, photo: np.ndarray, hole: np.ndarray, name="p"):
    pp, mp = tmp_path / f"{name}.png", tmp_path / f"{name}_mask.png"
    Image.fromarray(photo).save(pp)
    layer = np.zeros(photo.shape[:2] + (4,), np.uint8)
    layer[hole] = (255, 255, 255, 255)
    Image.fromarray(layer, "RGBA").save(mp)
    return {"background": handle_file(str(pp)), "layers": [handle_file(str(mp))], "composite": None}


def _hole(h, w):
    m = np.zeros((h, w), bool)
    m[h // 4 : h // 2, w // 3 : 2 * w // 3] = True
    return m


def test_end_to_end_every_available_model(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    photo = synthetic_photo(120, 160)
    hole = _hole(120, 160)
    models = service.available_models()
    gallery, scores, hole_md, zip_path, _ = client.predict(_editor(tmp_path, photo, hole), None, models, api_name="/inpaint")
    assert len(gallery) == len(models)
    captions = [g["caption"] for g in gallery]
    for name, cap in zip(models, captions):
        assert cap.startswith(name) and " s" in cap and "failed" not in cap
        img = gallery[captions.index(cap)]["image"]
        out = np.array(Image.open(img["path"] if isinstance(img, dict) else img).convert("RGB"))
        assert out.shape == photo.shape
        assert np.array_equal(out[~hole], photo[~hole]), f"{name}: known pixels changed"
    assert [row[0] for row in scores["data"]] == models
    assert scores["headers"][:5] == ["model", "time (s)", "L1 hole (%)", "PSNR (dB)", "SSIM"]
    assert "bin" in hole_md and zip_path.endswith(".zip")


def test_pixel_bomb_gets_a_clear_message_and_the_next_request_works(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_bomb_png(30000, 30000))
    with pytest.raises(Exception, match="megapixels") as err:
        client.predict({"background": handle_file(str(bomb)), "layers": [], "composite": None}, None, ["cv2_telea"], api_name="/inpaint")
    assert "/tmp" not in str(err.value) and "Traceback" not in str(err.value)
    gallery, *_ = client.predict(_editor(tmp_path, synthetic_photo(40, 40), _hole(40, 40)), None, ["cv2_telea"], api_name="/inpaint")
    assert len(gallery) == 1


def test_empty_mask_and_mask_upload(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    photo = synthetic_photo(50, 60)
    with pytest.raises(Exception, match="Paint the area"):
        client.predict(_editor(tmp_path, photo, np.zeros((50, 60), bool)), None, ["cv2_ns"], api_name="/inpaint")
    mask = tmp_path / "m.png"
    Image.fromarray((_hole(50, 60) * 255).astype(np.uint8)).save(mask)
    gallery, *_ = client.predict(_editor(tmp_path, photo, np.zeros((50, 60), bool)), handle_file(str(mask)), ["cv2_ns"], api_name="/inpaint")
    assert len(gallery) == 1
    wrong = tmp_path / "w.png"
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(wrong)
    with pytest.raises(Exception, match="same size|exactly"):
        client.predict(_editor(tmp_path, photo, np.zeros((50, 60), bool)), handle_file(str(wrong)), ["cv2_ns"], api_name="/inpaint")


def test_file_over_the_size_limit_is_refused(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    big = tmp_path / "big.png"
    noise = np.random.default_rng(0).integers(0, 256, (2000, 2000, 3), dtype=np.uint8)  # ~12 MB PNG
    Image.fromarray(noise).save(big, compress_level=0)
    assert big.stat().st_size > 10 * 1024 * 1024
    with pytest.raises(Exception, match="(?i)size|large|413"):
        client.predict({"background": handle_file(str(big)), "layers": [], "composite": None}, None, ["cv2_telea"], api_name="/inpaint")


def test_full_queue_refuses_politely(app_url, tmp_path):
    """Queue of 2, one worker: of six simultaneous slow jobs some are refused with a message."""
    client = Client(app_url, verbose=False)
    photo = synthetic_photo(900, 900)
    hole = np.zeros((900, 900), bool)
    hole[100:800, 100:800] = True
    payload = _editor(tmp_path, photo, hole, "slow")
    outcomes = []

    def call():
        try:
            client.predict(payload, None, ["biharmonic", "cv2_ns"], api_name="/inpaint")
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    refused = [o for o in outcomes if o != "ok"]
    assert "ok" in outcomes and refused, outcomes
    assert all("queue" in o.lower() for o in refused), refused


def test_checkpoint_files_are_never_served(app_url):
    import urllib.error
    import urllib.request

    from conftest import ROOT

    for rel in ("checkpoints/.gitkeep", "leaderboard/reported.csv", "app.py"):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"{app_url}gradio_api/file={ROOT / rel}")
        assert e.value.code in (403, 404)


def test_broken_checkpoint_marks_model_unavailable(tmp_path, monkeypatch):
    """A corrupt checkpoint: the model is listed as unavailable and a run of it fails in its
    caption while the other models still return."""
    from hub import registry
    from hub.checkpoint import save_weights
    from hub.registry import get_entry

    base = get_entry("glcic.tiny")
    path = tmp_path / "broken.safetensors"
    digest = save_weights(base.builder(**base.config.arch).state_dict(), path, {"name": "broken"})
    path.write_bytes(path.read_bytes()[:200])  # truncated on disk
    monkeypatch.setitem(registry._REGISTRY, "brokentest.faces", registry.RegistryEntry(
        base.config.replace(name="brokentest.faces", checkpoint=str(path), sha256=digest, test_only=False, domain="faces"), base.builder))
    assert "brokentest.faces" not in service.available_models()
    assert service.unavailable_models()["brokentest.faces"] == "corrupt"
    assert "corrupt" in service.model_card_markdown("brokentest.faces")
    photo = synthetic_photo(40, 40)
    res = service.run_models(photo, _hole(40, 40), ["brokentest.faces", "cv2_telea"])
    assert res[0].error and "checksum" in res[0].caption and res[1].image is not None


def test_leaderboard_missing_or_malformed_csv_gives_a_message(tmp_path):
    (tmp_path / "bad.csv").write_text("this,is\nnot,a leaderboard\n")
    with pytest.raises(service.LeaderboardError, match="malformed"):
        service.load_leaderboard("bad", tmp_path)
    with pytest.raises(service.LeaderboardError, match="No leaderboard"):
        service.load_leaderboard("nope", tmp_path)
    (tmp_path / "broken.csv").write_bytes(b"\x00\xff\x00garbage")
    with pytest.raises(service.LeaderboardError):
        service.load_leaderboard("broken", tmp_path)
    import app

    table, fig, csv_path, msg = app.leaderboard("nope", "l1", "irregular", False)
    assert table is None and fig is None and "No leaderboard" in msg


def test_leaderboard_table_and_figure_from_committed_csv():
    ds = service.leaderboard_datasets()
    assert ds, "the repository ships leaderboards"
    df = service.load_leaderboard(ds[0])
    table = service.leaderboard_table(df, "l1", "irregular")
    assert {"model", "0-10%", "50-60%", "latency_ms_median", "params"} <= set(table.columns)
    fig = service.leaderboard_figure(df, "psnr", "irregular", service.load_reported(), "faces")
    names = [t.name for t in fig.data]
    assert any("reported in" in n for n in names) and "cv2_telea" in names
    with pytest.raises(service.LeaderboardError, match="empty"):
        service.leaderboard_table(df, "lpips", "irregular")
