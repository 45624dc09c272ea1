"""Benchmark runner: resume, per-model recompute on a changed checkpoint, truncated store,
shards, and LPIPS/FID absent without weights."""
from __future__ import annotations

import csv

import pytest
import torch

from conftest import photo_folder
from hub import registry
from hub.benchmark import runner
from hub.benchmark.store import ResultsStore, StoreError, read_rows
from hub.checkpoint import save_weights, sha256_file
from hub.registry import get_entry


@pytest.fixture
def dataset(tmp_path):
    return photo_folder(tmp_path / "imgs", 5, 40, 52)


@pytest.fixture
def learned_pair(tmp_path, monkeypatch):
    """Two tiny learned models with checkpoints in tmp_path, registered for this test only."""
    names = []
    for tag in ("a", "b"):
        base = get_entry("glcic.tiny")
        torch.manual_seed(len(names))
        net = base.builder(**base.config.arch)
        path = tmp_path / f"bench_{tag}.safetensors"
        digest = save_weights(net.state_dict(), path, {"name": tag})
        name = f"benchtest.{tag}"
        monkeypatch.setitem(registry._REGISTRY, name, registry.RegistryEntry(
            base.config.replace(name=name, checkpoint=str(path), sha256=digest, test_only=True), base.builder))
        names.append(name)
    return names


def run(tmp_path, dataset, models, *extra):
    args = ["--datasets", f"toy={dataset}", "--size", "32", "--kinds", "freeform", "center", "square25", "--per-bin", "2",
            "--results-dir", str(tmp_path / "res"), "--out-dir", str(tmp_path / "lb"), "--quiet", "--models", *models, *extra]
    return runner.main(args)


def store_rows(tmp_path):
    return ResultsStore(tmp_path / "res", "toy").load()


def test_run_resume_and_changed_checkpoint(tmp_path, dataset, learned_pair, monkeypatch, capsys):
    models = ["cv2_telea", *learned_pair]
    assert run(tmp_path, dataset, models) == 0
    rows = store_rows(tmp_path)
    n_tasks = 6 * 2 + 2 + 2
    assert len(rows) == 3 * n_tasks
    lb = list(csv.DictReader(open(tmp_path / "lb" / "toy.csv")))
    assert {r["model"] for r in lb} == set(models)
    assert {r["mask_kind"] for r in lb} == {"freeform", "center", "square25"}
    r0 = lb[0]
    assert float(r0["l1_mean"]) > 0 and r0["n"] and r0["latency_ms_median"] and r0["lpips_mean"] == ""
    assert "LPIPS" in r0["note"] and "unavailable" in r0["note"]
    manifest = list(csv.DictReader(open(tmp_path / "lb" / "manifests" / "toy.csv")))
    assert len(manifest) == n_tasks

    # a rerun with nothing changed computes nothing
    size_before = (tmp_path / "res" / "toy.jsonl").stat().st_size
    assert run(tmp_path, dataset, models) == 0
    assert (tmp_path / "res" / "toy.jsonl").stat().st_size == size_before

    # one changed byte in model a's checkpoint (re-registered with its new sha): only a reruns
    name_a = learned_pair[0]
    cfg = registry._REGISTRY[name_a].config
    path = tmp_path / "bench_a.safetensors"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01  # inside the last tensor's payload
    path.write_bytes(bytes(data))
    monkeypatch.setitem(registry._REGISTRY, name_a, registry.RegistryEntry(cfg.replace(sha256=sha256_file(path)), registry._REGISTRY[name_a].builder))
    assert run(tmp_path, dataset, models) == 0
    new_rows = read_rows(tmp_path / "res" / "toy.jsonl")
    added = new_rows[3 * n_tasks:]
    assert len(added) == n_tasks and {r["model"] for r in added} == {name_a}

    # --prune drops the rows of a's old checkpoint, keeps the leaderboard as it was
    board = (tmp_path / "lb" / "toy.csv").read_text()
    assert run(tmp_path, dataset, models, "--prune") == 0
    kept = read_rows(tmp_path / "res" / "toy.jsonl")
    assert len(kept) == 3 * n_tasks and {r["checkpoint_sha256"] for r in kept if r["model"] == name_a} == {sha256_file(path)}
    assert (tmp_path / "lb" / "toy.csv").read_text() == board
    # a pruned run with only one model leaves the other models' rows alone
    assert run(tmp_path, dataset, [name_a], "--prune") == 0
    assert len(read_rows(tmp_path / "res" / "toy.jsonl")) == 3 * n_tasks
    assert run(tmp_path, dataset, models, "--prune", "--shard", "0/2") == 2


def test_resampling_change_recomputes_only_models_that_resize(monkeypatch):
    """A model run below the evaluation size depends on how windows are resampled, so that
    code's version is part of its cache identity; a model run at full size does not."""
    from hub import inference

    names = ("cv2_telea", "glcic.tiny", "context_encoder.tiny", "glcic.faces_128")
    before = {n: runner.model_identity(n, "fp32", 256) for n in names}
    native = runner.model_identity("glcic.faces_128", "fp32", 128)
    monkeypatch.setattr(inference, "RESAMPLING", "changed")
    after = {n: runner.model_identity(n, "fp32", 256) for n in before}
    assert after["cv2_telea"] == before["cv2_telea"]  # runs at up to 2048 px
    assert after["glcic.tiny"] == before["glcic.tiny"]  # runs at up to 1024 px
    assert after["context_encoder.tiny"] != before["context_encoder.tiny"]  # fixed 32 px
    assert after["glcic.faces_128"] != before["glcic.faces_128"]  # up to 128 px
    assert runner.model_identity("glcic.faces_128", "fp32", 128) == native  # at 128 px it never resizes


def test_truncated_store_is_reported_and_kept(tmp_path, dataset):
    assert run(tmp_path, dataset, ["cv2_ns"]) == 0
    store = tmp_path / "res" / "toy.jsonl"
    data = store.read_bytes()
    store.write_bytes(data[:-20])
    cut = store.read_bytes()
    assert run(tmp_path, dataset, ["cv2_ns"]) == 3
    assert store.read_bytes() == cut, "a damaged store must not be overwritten"
    with pytest.raises(StoreError, match="truncated"):
        read_rows(store)
    assert run(tmp_path, dataset, ["cv2_ns"], "--repair") == 0
    assert (tmp_path / "res" / "toy.jsonl.damaged").read_bytes() == cut
    assert len(read_rows(store)) == 16  # whole rows kept, the cut one recomputed


def test_two_shards_merged_equal_unsharded(tmp_path, dataset):
    models = ["cv2_telea", "cv2_ns"]
    solo, sharded = tmp_path / "solo", tmp_path / "sharded"
    solo.mkdir(), sharded.mkdir()
    assert run(solo, dataset, models) == 0
    assert run(sharded, dataset, models, "--shard", "0/2") == 0
    assert run(sharded, dataset, models, "--shard", "1/2") == 0
    assert run(sharded, dataset, models, "--merge") == 0
    assert run(sharded, dataset, models, "--merge") == 0  # idempotent

    def strip(rows):
        return {k: {f: v for f, v in r.items() if f != "latency_s"} for k, r in rows.items()}

    assert strip(store_rows(solo)) == strip(store_rows(sharded))
    a = [{k: v for k, v in r.items() if k != "latency_ms_median"} for r in csv.DictReader(open(solo / "lb" / "toy.csv"))]
    b = [{k: v for k, v in r.items() if k != "latency_ms_median"} for r in csv.DictReader(open(sharded / "lb" / "toy.csv"))]
    assert a == b


def test_task_list_is_deterministic(tmp_path, dataset):
    t1 = runner.build_tasks("toy", str(dataset), 32, ["freeform", "square25", "center"], 2, None, seed=0)
    t2 = runner.build_tasks("toy", str(dataset), 32, ["freeform", "square25", "center"], 2, None, seed=0)
    assert [(t.image_id, t.mask_id) for t in t1] == [(t.image_id, t.mask_id) for t in t2]
    assert all(t.bin in ("0-10%", "10-20%", "20-30%", "30-40%", "40-50%", "50-60%", "fixed") for t in t1)


def test_lpips_random_trunk_code_path_runs_but_default_load_refuses():
    from hub.metrics.perceptual import InceptionFeatures, LPIPSMetric, frechet_distance
    import numpy as np

    metric, reason = LPIPSMetric.load()
    if metric is None:
        assert "unavailable" in reason
    rand, _ = LPIPSMetric.load(allow_random_trunk=True)
    if rand is not None:  # exercise the computation with a random trunk (never reported)
        x = torch.rand(1, 3, 64, 64)
        assert float(rand(x, x)[0]) == pytest.approx(0.0, abs=1e-6)
    feats, reason = InceptionFeatures.load()
    if feats is None:
        assert "unavailable" in reason
    a = np.random.default_rng(0).normal(size=(60, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(frechet_distance(a[:10], a[:10]))


def test_mosaic_task_kind(tmp_path, dataset):
    assert runner.main(["--datasets", f"toy={dataset}", "--size", "32", "--kinds", "mosaic", "--per-bin", "3",
                        "--results-dir", str(tmp_path / "res"), "--out-dir", str(tmp_path / "lb"), "--quiet",
                        "--models", "cv2_telea", "glcic.tiny"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "lb" / "toy.csv")))
    assert {(r["model"], r["mask_kind"], r["bin"], r["n"]) for r in rows} == {("cv2_telea", "mosaic", "fixed", "3"), ("glcic.tiny", "mosaic", "fixed", "3")}


# -- quality bar ------------------------------------------------------------------------------

def _bar_csv(path, rows):
    fields = ["dataset", "model", "mask_kind", "bin", "l1_mean", "ssim_mean"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for model, kind, b, l1, ssim in rows:
            w.writerow({"dataset": path.stem, "model": model, "mask_kind": kind, "bin": b, "l1_mean": l1, "ssim_mean": ssim})


def _bar_rows(model, center_l1, ssim, bin56_l1):
    return [(model, "center", "fixed", center_l1, ssim), (model, "square25", "fixed", center_l1, ssim),
            (model, "irregular", "40-50%", bin56_l1 - 2.0, 0.8), (model, "irregular", "50-60%", bin56_l1, 0.7)]


def test_quality_bar_verdicts_cards_and_table(tmp_path):
    import json

    from hub.benchmark import bar

    lb = tmp_path / "lb"
    lb.mkdir()
    base = _bar_rows("cv2_telea", 4.0, 0.86, 6.0) + _bar_rows("cv2_ns", 4.2, 0.85, 5.9)
    # "good" beats both everywhere; "close" only ties Telea's SSIM (a tie does not beat it);
    # "noscore" has no 50-60% row at all
    _bar_csv(lb / "faces.csv", base + _bar_rows("m.good", 3.0, 0.87, 5.0) + _bar_rows("m.close", 3.0, 0.86, 5.0)
             + _bar_rows("m.noscore", 3.0, 0.87, 5.0)[:3])
    _bar_csv(lb / "scenes.csv", base + _bar_rows("s.a", 3.0, 0.9, 5.5) + _bar_rows("s.b", 3.9, 0.9, 5.8)
             + _bar_rows("s.c", 4.1, 0.9, 5.0))
    ckpts = [("m.good", "faces"), ("m.close", "faces"), ("m.noscore", "faces"),
             ("s.a", "scenes"), ("s.b", "scenes"), ("s.c", "scenes")]
    v = bar.evaluate(lb, ckpts)
    assert v["m.good"]["passes"] and not v["m.close"]["passes"] and not v["m.noscore"]["passes"]
    assert [c["mask"] + " " + c["metric"] for c in v["m.close"]["checks"] if not c["pass"]] == ["center ssim", "square25 ssim"]
    assert v["s.a"]["passes"] and v["s.b"]["passes"] and not v["s.c"]["passes"]   # s.c loses on the centre
    summary = bar.domain_summary(v)
    assert summary["faces"] == {"checkpoints": 3, "passing": 1, "needed": 3, "met": False}
    assert summary["scenes"]["passing"] == 2 and not summary["scenes"]["met"]     # three are needed
    text = bar.markdown(lb, v)
    assert "| m.good | 3.00 |" in text and "misses: center ssim, square25 ssim" in text and "bar not met" in text
    made = bar.markdown(lb, v, {"m.good": {"arch_variant": "glcic.base", "arch": {"width": 32}, "steps": 10, "images_seen": 80,
                                           "wall_time_s": 120, "warm_start": {"from": "p.safetensors", "parent_steps": 5,
                                                                              "parent_images_seen": 40}}})
    assert "| m.good | glcic.base (width=32) | 10 (+5) | 80 (+40) | 2 | p.safetensors |" in made

    # the verdict lands in the card; the weights file is untouched
    ck = tmp_path / "ck"
    ck.mkdir()
    (ck / "m.good.safetensors").write_bytes(b"weights")
    (ck / "m.good.json").write_text(json.dumps({"name": "m.good", "benchmark_faces_test_256": {"old": 1}}))
    assert bar.update_cards({"m.good": v["m.good"]}, ck, {"m.good": "m.good.safetensors"}) == ["m.good.json"]
    card = json.loads((ck / "m.good.json").read_text())
    assert card["quality_bar"]["passes"] is True and "benchmark_faces_test_256" not in card
    assert (ck / "m.good.safetensors").read_bytes() == b"weights"
