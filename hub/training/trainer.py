"""The training loop: resumable to the step, time-budgeted, validated, exported as safetensors.

Run state (weights, optimiser moments, step, torch RNG) is saved every few minutes to
runs/<name>/state.safetensors + state.json, without pickle. Batches are a pure function of
(seed, step), so a resumed run continues with the very batch it would have drawn. When no
run state exists, a run can warm-start from an exported checkpoint (weights only).
"""
from __future__ import annotations

import csv
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from timm.utils import ModelEmaV3
from tqdm import tqdm

from .. import ops
from ..checkpoint import load_weights, read_card, save_weights, sha256_file
from ..masks import check_training_kinds
from ..metrics import pixel_metrics
from ..registry import get_entry
from . import losses as L
from .data import VALIDATION_MASKS, ImageBank, TrainSampler, validation_set
from .recipes import RECIPES, LossContext, local_windows


def _warm_start_record(init: str) -> Dict[str, Any]:
    """Where a warm start's weights came from, taken when they are loaded (and kept in the run
    state), so the card can count the parent's steps and images too."""
    parent = read_card(init) or {}
    return {"from": Path(init).name, "sha256": sha256_file(init), "parent_domain": parent.get("domain", ""),
            "parent_steps": parent.get("steps"), "parent_images_seen": parent.get("images_seen")}


@dataclass
class TrainConfig:
    family: str
    name: str
    train_dir: str
    val_dir: str = ""
    arch: str = ""                       # registry arch variant; default "<family>.base"
    arch_overrides: Dict[str, Any] = field(default_factory=dict)
    size: int = 128
    batch: int = 8
    steps: int = 100_000
    minutes: float = 0.0                 # time budget; 0 = steps only
    lr: float = 0.0                      # 0 = the recipe's
    adversarial: bool = True
    seed: int = 0
    bf16: bool = True
    val_count: int = 48
    val_every: int = 250
    log_every: int = 25
    checkpoint_minutes: float = 5.0
    runs_dir: str = "runs"
    export_dir: str = ""                 # default: the run folder; publish to checkpoints/ once it passes the bar
    init: str = ""                       # warm start weights (safetensors) when no run state
    half_export: bool = True
    recipe_params: Dict[str, Any] = field(default_factory=dict)  # overrides of the recipe's loss weights
    mask_kinds: Tuple[str, ...] = ()  # training mask kinds; empty = the recipe's
    ema_decay: float = 0.999             # validate and export a moving average of the weights; 0 = the raw weights
    device: str = "auto"
    threads: int = 0
    domain: str = ""


def _flatten_optimizer(opt: torch.optim.Optimizer, prefix: str):
    sd = opt.state_dict()
    tensors, meta = {}, {"param_groups": sd["param_groups"], "state": {}}
    for pid, st in sd["state"].items():
        meta["state"][str(pid)] = {}
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"{prefix}.{pid}.{k}"] = v
                meta["state"][str(pid)][k] = "tensor"
            else:
                meta["state"][str(pid)][k] = v
    return tensors, meta


def _unflatten_optimizer(opt: torch.optim.Optimizer, prefix: str, tensors, meta) -> None:
    state = {}
    for pid, st in meta["state"].items():
        state[int(pid)] = {k: (tensors[f"{prefix}.{pid}.{k}"] if v == "tensor" else v) for k, v in st.items()}
    opt.load_state_dict({"param_groups": meta["param_groups"], "state": state})


def _stop_on_sigterm() -> None:
    """Turn SIGTERM (a scheduler or `kill`) into KeyboardInterrupt, so that the loop's
    `finally` validates and saves the run state before the process ends."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        def handler(signum, frame):
            raise KeyboardInterrupt(f"signal {signum}")

        signal.signal(signal.SIGTERM, handler)


class Trainer:
    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        if cfg.family not in RECIPES:
            raise ValueError(f"no training recipe for family {cfg.family!r}; known: {', '.join(RECIPES)}")
        self.recipe = RECIPES[cfg.family]
        unknown = set(cfg.recipe_params) - set(self.recipe.params)
        if unknown:
            raise ValueError(f"{cfg.family} recipe has no parameter {sorted(unknown)}; it has {sorted(self.recipe.params)}")
        if cfg.recipe_params:
            self.recipe = replace(self.recipe, params={**self.recipe.params, **cfg.recipe_params})
        if cfg.mask_kinds:
            self.recipe = replace(self.recipe, mask_kinds=check_training_kinds(cfg.mask_kinds))
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        if cfg.device == "auto":
            self.device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
        else:
            self.device = torch.device(cfg.device)
        if self.world > 1:
            torch.distributed.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        arch_name = cfg.arch or f"{cfg.family}.base"
        entry = get_entry(arch_name)
        self.model_config = entry.config
        self.arch = {**entry.config.arch, **cfg.arch_overrides}
        torch.manual_seed(cfg.seed)
        self.net = entry.builder(**self.arch).to(self.device)
        self.range = entry.config.input_range
        self.prefill_ns = entry.config.prefill == "ns"
        lr = cfg.lr or self.recipe.lr
        self.opt_g = torch.optim.Adam(self.net.parameters(), lr=lr, betas=self.recipe.betas)
        # Batch-8 CPU runs are noisy: successive exports differed by 0.2 points of benchmark L1.
        # timm's EMA (decay warmed up with the step count) averages that noise away.
        self.ema = ModelEmaV3(self.net, decay=cfg.ema_decay, use_warmup=True) if cfg.ema_decay else None
        self.critic = self.recipe.build_critic(cfg.size) if cfg.adversarial else None
        self.opt_d = None
        if self.critic is not None:
            self.critic = self.critic.to(self.device)
            self.opt_d = torch.optim.Adam(self.critic.parameters(), lr=lr, betas=self.recipe.betas)
        self.warm_start: Optional[Dict[str, Any]] = None
        self.disabled: List[str] = [f"{k} = 0 (paper: {RECIPES[cfg.family].params[k]}), set for this run"
                                    for k, v in cfg.recipe_params.items() if v == 0 and RECIPES[cfg.family].params[k]]
        if not cfg.adversarial and self.recipe.adversarial != "none":
            self.disabled.append(f"adversarial ({self.recipe.adversarial}, weight {self.recipe.adv_weight}): switched off for this run")
        self.vgg = None
        if cfg.family == "lgnet":
            self.vgg, reason = L.VGGFeatures.load()
            if self.vgg is None:
                self.disabled.append(f"perceptual and style (VGG16): {reason}")
            else:
                self.vgg = self.vgg.to(self.device)
        self.ddp_net = self.net
        if self.world > 1:
            self.ddp_net = torch.nn.parallel.DistributedDataParallel(self.net, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        self.run_dir = Path(cfg.runs_dir) / cfg.name
        self.step = 0
        self.images_seen = 0
        self.elapsed = 0.0
        self.best_val: Optional[float] = None
        self.best_metrics: Dict[str, float] = {}

    # -- state --------------------------------------------------------------------------
    def state_paths(self):
        return self.run_dir / "state.safetensors", self.run_dir / "state.json"

    def save_state(self) -> None:
        if self.rank != 0:
            return
        from safetensors.torch import save_file

        tensors = {f"g.{k}": v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}
        t, m_g = _flatten_optimizer(self.opt_g, "opt_g")
        tensors.update({k: v.cpu().contiguous() for k, v in t.items()})
        meta: Dict[str, Any] = {"opt_g": m_g, "step": self.step, "images_seen": self.images_seen, "elapsed": self.elapsed,
                                "best_val": self.best_val, "best_metrics": self.best_metrics, "config": asdict(self.cfg),
                                "warm_start": self.warm_start, "val_masks": VALIDATION_MASKS}
        if self.critic is not None:
            tensors.update({f"d.{k}": v.detach().cpu().contiguous() for k, v in self.critic.state_dict().items()})
            t, m_d = _flatten_optimizer(self.opt_d, "opt_d")
            tensors.update({k: v.cpu().contiguous() for k, v in t.items()})
            meta["opt_d"] = m_d
        if self.ema is not None:
            tensors.update({f"ema.{k}": v.detach().cpu().contiguous() for k, v in self.ema.module.state_dict().items()})
        tensors["rng.torch"] = torch.get_rng_state()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        st, js = self.state_paths()
        tmp = st.with_name(".state.safetensors.tmp")
        save_file(tensors, str(tmp))
        tmpj = js.with_name(".state.json.tmp")
        tmpj.write_text(json.dumps(meta))
        os.replace(tmp, st)
        os.replace(tmpj, js)

    def load_state(self) -> bool:
        from safetensors.torch import load_file

        st, js = self.state_paths()
        if st.is_file() and js.is_file():
            tensors = load_file(str(st))
            meta = json.loads(js.read_text())
            self.net.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("g.")})
            _unflatten_optimizer(self.opt_g, "opt_g", tensors, meta["opt_g"])
            if self.critic is not None and "opt_d" in meta:
                self.critic.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("d.")})
                _unflatten_optimizer(self.opt_d, "opt_d", tensors, meta["opt_d"])
            torch.set_rng_state(tensors["rng.torch"])
            self.step, self.images_seen, self.elapsed = meta["step"], meta["images_seen"], meta["elapsed"]
            self.best_val, self.best_metrics = meta.get("best_val"), meta.get("best_metrics", {})
            if meta.get("val_masks") != VALIDATION_MASKS:
                # A best score on other validation masks says nothing about these ones.
                tqdm.write("validation masks changed since this state was saved; best validation score reset")
                self.best_val, self.best_metrics = None, {}
            self.warm_start = meta.get("warm_start")
            if self.ema is not None:
                ema = {k[4:]: v for k, v in tensors.items() if k.startswith("ema.")}
                if ema:
                    self.ema.module.load_state_dict(ema)
                else:  # a state saved without an average: start it from the restored weights
                    self.ema.set(self.net)
            return True
        if self.cfg.init:
            state = load_weights(self.cfg.init, None)
            self.net.load_state_dict(state)
            self.warm_start = _warm_start_record(self.cfg.init)
            if self.ema is not None:
                self.ema.set(self.net)
            tqdm.write(f"warm start from {self.cfg.init}")
        return False

    # -- one step -----------------------------------------------------------------------
    def _net_input(self, x01: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        prefill = None
        if self.prefill_ns:
            from ..models.classical import navier_stokes_prefill

            prefill = navier_stokes_prefill(ops.prepare_input(x01, mask), mask)
        return ops.to_range(ops.prepare_input(x01, mask, prefill), *self.range)

    def train_step(self, x01: torch.Tensor, mask: torch.Tensor) -> Dict[str, float]:
        x01, mask = x01.to(self.device), mask.to(self.device)
        gt = ops.to_range(x01, *self.range)
        inp = self._net_input(x01, mask)
        ctx = LossContext(self.net, self.vgg, self.step)
        terms: Dict[str, float] = {}
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.bf16):
            out = self.ddp_net(inp, mask)
            out = {k: (v.float() if torch.is_tensor(v) else [f.float() for f in v]) for k, v in out.items() if k != "attention_rgb"}
            loss, rec_terms = self.recipe.reconstruction(out, gt, mask, ctx)
        terms.update(rec_terms)
        if self.critic is not None:
            fake = out["out"] * mask + gt * (1 - mask)
            terms.update(self._critic_steps(gt, fake.detach(), mask))
            g_adv = self._generator_adv(fake, mask)
            loss = loss + self.recipe.adv_weight * g_adv
            terms["g_adv"] = g_adv.item()
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        if self.ema is not None:
            self.ema.update(self.net, step=self.step + 1)
        terms["loss"] = loss.item()
        return terms

    def _critic_scores(self, x: torch.Tensor, mask: torch.Tensor) -> List[torch.Tensor]:
        if self.recipe.adversarial == "wgan_gl":
            local = local_windows(x, mask, self.critic.local_size)
            return [self.critic.global_critic(x), self.critic.local_critic(local)]
        return [self.critic(x)]

    def _critic_nets(self):
        if self.recipe.adversarial == "wgan_gl":
            return [self.critic.global_critic, self.critic.local_critic]
        return [self.critic]

    def _critic_steps(self, real: torch.Tensor, fake: torch.Tensor, mask: torch.Tensor) -> Dict[str, float]:
        kind = self.recipe.adversarial
        d_loss = torch.zeros(())
        for _ in range(self.recipe.critic_steps):
            real_s = self._critic_scores(real, mask)
            fake_s = self._critic_scores(fake, mask)
            if kind in ("wgan", "wgan_gl"):
                d_loss = sum(f.mean() - r.mean() for r, f in zip(real_s, fake_s))
                gp_lambda = self.recipe.params.get("gp_lambda", 10.0)
                if kind == "wgan_gl":
                    lr_ = local_windows(real, mask, self.critic.local_size)
                    lf_ = local_windows(fake, mask, self.critic.local_size)
                    d_loss = d_loss + gp_lambda * (L.gradient_penalty(self.critic.global_critic, real, fake)
                                                   + L.gradient_penalty(self.critic.local_critic, lr_, lf_))
                else:
                    d_loss = d_loss + gp_lambda * L.gradient_penalty(self.critic, real, fake)
            elif kind == "gan":
                d_loss = sum(torch.nn.functional.binary_cross_entropy_with_logits(r, torch.ones_like(r))
                             + torch.nn.functional.binary_cross_entropy_with_logits(f, torch.zeros_like(f)) for r, f in zip(real_s, fake_s))
            else:  # patchgan hinge
                d_loss = sum(torch.relu(1 - r).mean() + torch.relu(1 + f).mean() for r, f in zip(real_s, fake_s))
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
        return {"d_loss": float(d_loss.detach())}

    def _generator_adv(self, fake: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for p in self.critic.parameters():
            p.requires_grad_(False)
        scores = self._critic_scores(fake, mask)
        for p in self.critic.parameters():
            p.requires_grad_(True)
        if self.recipe.adversarial == "gan":
            return sum(torch.nn.functional.binary_cross_entropy_with_logits(s, torch.ones_like(s)) for s in scores)
        return sum(-s.mean() for s in scores)

    # -- validation -----------------------------------------------------------------------
    def eval_net(self) -> torch.nn.Module:
        """The weights that are validated and exported: the moving average when there is one."""
        return self.ema.module if self.ema is not None else self.net

    @torch.no_grad()
    def validate(self, val_x: torch.Tensor, val_m: torch.Tensor) -> Dict[str, float]:
        net = self.eval_net()
        net.eval()
        rows = []
        preds = []
        for i in range(0, val_x.shape[0], 8):
            x, m = val_x[i : i + 8].to(self.device), val_m[i : i + 8].to(self.device)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.bf16):
                out = net(self._net_input(x, m), m)["out"].float()
            pred = ops.composite(x, ops.from_range(out, *self.range), m)
            preds.append(pred.cpu())
            for j in range(x.shape[0]):
                rows.append(pixel_metrics(ops.to_uint8_image(pred[j]), ops.to_uint8_image(x[j])))
        self.net.train()
        self._last_preds = torch.cat(preds)
        return {k: float(np.nanmean([r[k] for r in rows])) for k in ("l1", "psnr", "ssim")}

    def save_samples(self, val_x: torch.Tensor, val_m: torch.Tensor, n: int = 7) -> None:
        from PIL import Image

        n = min(n, val_x.shape[0])
        rows = []
        for i in range(n):
            masked = ops.prepare_input(val_x[i : i + 1], val_m[i : i + 1], torch.ones_like(val_x[i : i + 1]))
            rows.append(torch.cat([masked[0], self._last_preds[i], val_x[i]], dim=2))
        grid = torch.cat(rows, dim=1)
        Image.fromarray(ops.to_uint8_image(grid)).save(self.run_dir / "samples.png")

    # -- export -----------------------------------------------------------------------------
    def export(self, metrics: Dict[str, float]) -> Path:
        cfg = self.cfg
        path = Path(cfg.export_dir or self.run_dir) / f"{cfg.name}.safetensors"
        card = {
            "name": cfg.name,
            "family": cfg.family,
            "paper": self.model_config.paper,
            "arch_variant": cfg.arch or f"{cfg.family}.base",
            "arch": self.arch,
            "input_range": list(self.range),
            "image_size": cfg.size,
            "domain": cfg.domain,
            "train_dir": Path(cfg.train_dir).as_posix().split("shared/")[-1],
            "val_dir": Path(cfg.val_dir).as_posix().split("shared/")[-1] if cfg.val_dir else "",
            "steps": self.step,
            "batch": cfg.batch,
            "images_seen": self.images_seen,
            "wall_time_s": round(self.elapsed, 1),
            "hardware": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, {self.device.type}",
            "precision": "bf16 autocast" if cfg.bf16 else "fp32",
            "losses": {"recipe": self.recipe.family, "params": self.recipe.params, "adversarial": self.recipe.adversarial if cfg.adversarial else "off",
                       "adv_weight": self.recipe.adv_weight if cfg.adversarial else 0.0, "mask_kinds": list(self.recipe.mask_kinds)},
            "disabled_losses": self.disabled,
            "optimizer": {"type": "Adam", "lr": cfg.lr or self.recipe.lr, "betas": list(self.recipe.betas)},
            "weights": f"exponential moving average, decay {cfg.ema_decay} (timm ModelEmaV3, warm-up)" if self.ema is not None else "raw",
            "validation": {"images": cfg.val_count, "masks": VALIDATION_MASKS, **metrics},
            "warm_start": self.warm_start,
            "license": "Weights MIT. Trained on public research images (CelebA / Places365 / ImageNet samples, see shared/data/README.md) whose own terms are research, non-commercial.",
        }
        save_weights(self.eval_net().state_dict(), path, card, half=cfg.half_export)
        return path

    # -- loop -------------------------------------------------------------------------------
    def fit(self) -> Dict[str, float]:
        cfg = self.cfg
        _stop_on_sigterm()
        resumed = self.load_state()
        bank = ImageBank(cfg.train_dir, cfg.size, desc="training images")
        sampler = TrainSampler(bank, cfg.size, cfg.batch, cfg.seed, self.recipe.mask_kinds, self.rank, self.world)
        val = validation_set(cfg.val_dir or cfg.train_dir, cfg.size, cfg.val_count) if self.rank == 0 else None
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.run_dir / "log.csv"
        new_log = not log_path.exists()
        log_f = open(log_path, "a", newline="")
        writer = csv.writer(log_f)
        if new_log:
            writer.writerow(["step", "images_seen", "elapsed_s", "kind", "key", "value"])
        self.net.train()
        t_start = time.time() - self.elapsed
        last_ckpt = time.time()
        total = cfg.steps
        bar = tqdm(total=total, initial=self.step, desc=cfg.name, unit="step", disable=self.rank != 0, dynamic_ncols=True)
        if resumed:
            tqdm.write(f"resumed {cfg.name} at step {self.step}")
        metrics: Dict[str, float] = dict(self.best_metrics)
        session_start = (time.time(), self.step)
        try:
            while self.step < total:
                if cfg.minutes and (time.time() - t_start) > cfg.minutes * 60:
                    break
                x, m = sampler.sample(self.step)
                terms = self.train_step(x, m)
                self.step += 1
                self.images_seen += x.shape[0] * self.world
                self.elapsed = time.time() - t_start
                bar.update(1)
                if cfg.minutes and self.step % 5 == 0:
                    bar.total = self._budget_steps(total, session_start, t_start)
                    bar.refresh()
                if self.rank == 0 and self.step % cfg.log_every == 0:
                    for k, v in terms.items():
                        writer.writerow([self.step, self.images_seen, round(self.elapsed, 1), "train", k, f"{v:.6f}"])
                    log_f.flush()
                    bar.set_postfix(loss=f"{terms['loss']:.4f}")
                if self.rank == 0 and self.step % cfg.val_every == 0:
                    metrics = self._validate_and_export(val, writer)
                    log_f.flush()
                if time.time() - last_ckpt > cfg.checkpoint_minutes * 60:
                    self.save_state()
                    last_ckpt = time.time()
        finally:
            if self.rank == 0 and self.step % cfg.val_every != 0 and val is not None:
                metrics = self._validate_and_export(val, writer)
            self.save_state()
            log_f.close()
            bar.close()
        return metrics

    def _budget_steps(self, total: int, session_start, t_start: float) -> int:
        """The step a time budget will end at, at this session's pace (so the bar's ETA is
        the budget's, not that of the step cap)."""
        t0, s0 = session_start
        done = self.step - s0
        if done <= 0:
            return total
        pace = (time.time() - t0) / done
        left = self.cfg.minutes * 60 - (time.time() - t_start)
        return int(min(total, self.step + max(0.0, left) / pace))

    def _validate_and_export(self, val, writer) -> Dict[str, float]:
        metrics = self.validate(*val)
        for k, v in metrics.items():
            writer.writerow([self.step, self.images_seen, round(self.elapsed, 1), "val", k, f"{v:.6f}"])
        self.save_samples(*val)
        if self.best_val is None or metrics["l1"] < self.best_val:
            self.best_val = metrics["l1"]
            self.best_metrics = {**metrics, "step": self.step}
            path = self.export(self.best_metrics)
            tqdm.write(f"step {self.step}: val l1 {metrics['l1']:.3f}% psnr {metrics['psnr']:.2f} ssim {metrics['ssim']:.4f} -> exported {path.name}")
        else:
            tqdm.write(f"step {self.step}: val l1 {metrics['l1']:.3f}% (best {self.best_val:.3f}%)")
        return self.best_metrics
