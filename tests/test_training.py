"""Training pipeline: a tiny end-to-end run, exact resume, checkpoint integrity."""
from __future__ import annotations

import json

import pytest
import torch

from conftest import photo_folder
from hub.checkpoint import CheckpointError, load_weights, sha256_file
from hub.training.data import ImageBank, TrainSampler
from hub.training.trainer import TrainConfig, Trainer


@pytest.fixture
def image_dir(tmp_path):
    return photo_folder(tmp_path / "imgs", 6, 40, 48)


def config(tmp_path, image_dir, **kw):
    base = dict(family="glcic", name="tiny_run", train_dir=str(image_dir), val_dir=str(image_dir), arch="glcic.tiny",
                size=32, batch=2, steps=6, val_every=3, val_count=4, log_every=1, runs_dir=str(tmp_path / "runs"),
                export_dir=str(tmp_path / "ckpt"), bf16=False, adversarial=False, checkpoint_minutes=100)
    base.update(kw)
    return TrainConfig(**base)


def test_tiny_run_writes_checkpoint_and_card(tmp_path, image_dir):
    metrics = Trainer(config(tmp_path, image_dir)).fit()
    ck = tmp_path / "ckpt" / "tiny_run.safetensors"
    card = json.loads((tmp_path / "ckpt" / "tiny_run.json").read_text())
    assert ck.is_file() and card["sha256"] == sha256_file(ck)
    assert card["family"] == "glcic" and card["image_size"] == 32 and card["steps"] >= 3
    assert card["disabled_losses"] and "adversarial" in card["disabled_losses"][0]
    assert {"l1", "psnr", "ssim"} <= set(card["validation"])
    assert metrics["l1"] > 0
    assert (tmp_path / "runs" / "tiny_run" / "samples.png").is_file()
    assert (tmp_path / "runs" / "tiny_run" / "log.csv").read_text().count("val") >= 2


@pytest.mark.parametrize("family,arch,adv", [("glcic", "glcic.tiny", False), ("deepfill_v1", "deepfill_v1.tiny", True)])
def test_resume_continues_with_identical_next_loss(tmp_path, image_dir, family, arch, adv):
    """Run A: 4 steps straight. Run B: 2 steps, stop, new Trainer resumes, 2 more.
    The loss of every step after the resume must equal run A's exactly."""
    def losses_of(trainer, upto):
        out = []
        while trainer.step < upto:
            x, m = trainer._sampler.sample(trainer.step)
            out.append(trainer.train_step(x, m)["loss"])
            trainer.step += 1
        return out

    def make(name):
        t = Trainer(config(tmp_path, image_dir, family=family, arch=arch, name=name, adversarial=adv))
        bank = ImageBank(str(image_dir), 32)
        t._sampler = TrainSampler(bank, 32, 2, 0, t.recipe.mask_kinds)
        return t

    a = make("run_a")
    la = losses_of(a, 4)
    b = make("run_b")
    lb = losses_of(b, 2)
    b.save_state()
    b2 = make("run_b")
    assert b2.load_state() and b2.step == 2
    lb += losses_of(b2, 4)
    assert lb == la
    # the exported weight average resumes exactly too
    ema_a, ema_b = a.ema.module.state_dict(), b2.ema.module.state_dict()
    assert all(torch.equal(ema_a[k], ema_b[k]) for k in ema_a)


def test_corrupted_checkpoint_rejected_before_deserialising(tmp_path, image_dir):
    Trainer(config(tmp_path, image_dir, steps=3)).fit()
    ck = tmp_path / "ckpt" / "tiny_run.safetensors"
    good = sha256_file(ck)
    assert load_weights(ck, good)
    data = bytearray(ck.read_bytes())
    data[len(data) // 2] ^= 0x01
    ck.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        load_weights(ck, good)
    ck.write_bytes(bytes(data[:100]))
    with pytest.raises(CheckpointError, match="checksum"):
        load_weights(ck, good)
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_weights(ck, None)


def test_warm_start_recorded_and_publish_pins_sha(tmp_path, image_dir):
    from hub.training.publish import publish

    Trainer(config(tmp_path, image_dir)).fit()
    parent = tmp_path / "ckpt" / "tiny_run.safetensors"
    Trainer(config(tmp_path, image_dir, name="child", init=str(parent), export_dir=str(tmp_path / "ckpt2"))).fit()
    child = tmp_path / "ckpt2" / "child.safetensors"
    ws = json.loads(child.with_suffix(".json").read_text())["warm_start"]
    assert ws["from"] == "tiny_run.safetensors" and ws["sha256"] == sha256_file(parent) and ws["parent_steps"] == 6
    # a resumed run keeps the record from its state, even without --init and after the parent changed
    parent_sha = ws["sha256"]
    Trainer(config(tmp_path, image_dir, name="child", steps=9, export_dir=str(tmp_path / "ckpt2"))).fit()
    assert json.loads((tmp_path / "runs" / "child" / "state.json").read_text())["warm_start"]["sha256"] == parent_sha

    dest, table = tmp_path / "shipped", tmp_path / "pretrained.json"
    row = publish(child, dest, table, max_side=64)
    assert row["sha256"] == sha256_file(dest / "child.safetensors") and row["max_side"] == 64
    assert row["arch"] == "glcic.tiny" and row["size"] == 32
    publish(parent, dest, table)
    assert [r["name"] for r in json.loads(table.read_text())] == ["child", "tiny_run"]
    # a card that does not describe these bytes is refused
    card = json.loads(parent.with_suffix(".json").read_text())
    card["sha256"] = "0" * 64
    parent.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(SystemExit, match="sha256"):
        publish(parent, dest, table)


def test_recipe_param_override_is_recorded_and_checked(tmp_path, image_dir):
    Trainer(config(tmp_path, image_dir, recipe_params={"gamma": 0.5, "ae_alpha": 0})).fit()
    card = json.loads((tmp_path / "ckpt" / "tiny_run.json").read_text())
    assert card["losses"]["params"]["gamma"] == 0.5 and card["losses"]["params"]["ae_alpha"] == 0
    assert any(d.startswith("ae_alpha = 0 (paper: 1.2)") for d in card["disabled_losses"])
    with pytest.raises(ValueError, match="no parameter"):
        Trainer(config(tmp_path, image_dir, name="bad", recipe_params={"not_a_weight": 1}))


def test_mask_kinds_override_is_recorded_and_checked(tmp_path, image_dir):
    Trainer(config(tmp_path, image_dir, mask_kinds=("blob",))).fit()
    card = json.loads((tmp_path / "ckpt" / "tiny_run.json").read_text())
    assert card["losses"]["mask_kinds"] == ["blob"] and "blob" in card["validation"]["masks"]
    with pytest.raises(ValueError, match="unknown training mask kind"):
        Trainer(config(tmp_path, image_dir, name="bad", mask_kinds=("ring",)))


def test_resume_after_validation_masks_changed_forgets_best_score(tmp_path, image_dir):
    Trainer(config(tmp_path, image_dir, steps=3)).fit()
    js = tmp_path / "runs" / "tiny_run" / "state.json"
    meta = json.loads(js.read_text())
    assert meta["best_val"] is not None
    t = Trainer(config(tmp_path, image_dir))
    t.load_state()
    assert t.best_val == meta["best_val"]
    meta["val_masks"] = "free-form bins 0-60% and central square, fixed seeds"  # an older run's set
    js.write_text(json.dumps(meta))
    t = Trainer(config(tmp_path, image_dir))
    t.load_state()
    assert t.best_val is None and t.step == 3


def test_export_is_the_weight_average(tmp_path, image_dir):
    t = Trainer(config(tmp_path, image_dir, steps=5, val_every=5))
    t.fit()
    card = json.loads((tmp_path / "ckpt" / "tiny_run.json").read_text())
    assert card["weights"].startswith("exponential moving average, decay 0.999")
    exported = load_weights(tmp_path / "ckpt" / "tiny_run.safetensors", card["sha256"])
    ema, raw = t.ema.module.state_dict(), t.net.state_dict()
    dist = lambda sd: sum(float((exported[k].float() - sd[k].float()).abs().sum()) for k in exported)  # noqa: E731
    assert dist(raw) > 0 and dist(ema) < 0.2 * dist(raw)  # fp16 storage of the average, not the raw weights
    raw_run = Trainer(config(tmp_path, image_dir, name="raw", steps=5, val_every=5, ema_decay=0.0))
    raw_run.fit()
    assert raw_run.ema is None
    assert json.loads((tmp_path / "ckpt" / "raw.json").read_text())["weights"] == "raw"
