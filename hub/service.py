"""What the app needs from the hub, in plain functions: model choices, run-all with scores,
leaderboard tables and charts, model cards. The app (app.py) only wires these to widgets.

Errors meant for users are raised as `UserError` with a message free of internal paths.
"""
from __future__ import annotations

import io
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from . import masks as M
from . import ops
from .checkpoint import read_card, resolve
from .inference import SHARED_CACHE, checkpoint_status, is_available
from .io import DEFAULT_MAX_PIXELS, ImageLoadError, load_image, load_mask
from .metrics import pixel_metrics
from .registry import get_config, list_models

ROOT = Path(__file__).resolve().parent.parent
LEADERBOARD_DIR = ROOT / "leaderboard"


class UserError(ValueError):
    """A problem with the user's input, with a message to show as is."""


# -- models ----------------------------------------------------------------------------------

GROUP_ORDER = {"any": 0, "faces": 1, "scenes": 2}


def model_groups() -> Dict[str, List[str]]:
    """Available models grouped for the picker: classical, faces, scenes."""
    groups: Dict[str, List[str]] = {"classical": [], "faces": [], "scenes": [], "other": []}
    for name in list_models():
        if not is_available(name):
            continue
        cfg = get_config(name)
        key = "classical" if cfg.kind == "classical" else (cfg.domain if cfg.domain in groups else "other")
        groups[key].append(name)
    return {k: v for k, v in groups.items() if v}


def available_models() -> List[str]:
    return [n for names in model_groups().values() for n in names]


def unavailable_models() -> Dict[str, str]:
    return {n: checkpoint_status(n) for n in list_models() if not is_available(n)}


def choice_label(name: str) -> str:
    cfg = get_config(name)
    return f"{name} · {'classical' if cfg.kind == 'classical' else cfg.domain}"


# -- inputs -------------------------------------------------------------------------------

def editor_inputs(editor: Optional[dict], mask_file: Optional[str] = None, max_pixels: int = DEFAULT_MAX_PIXELS):
    """From the ImageEditor value (type="filepath") and an optional mask file to
    (rgb uint8, alpha or None, hole bool). The photo goes through the one safe loader."""
    if not editor or not editor.get("background"):
        raise UserError("Upload a photo first.")
    try:
        loaded = load_image(editor["background"], max_pixels=max_pixels)
    except ImageLoadError as exc:
        raise UserError(_strip_paths(str(exc))) from None
    h, w = loaded.shape
    if mask_file:
        try:
            hole = load_mask(mask_file, expected_shape=(h, w), max_pixels=max_pixels)
        except ImageLoadError as exc:
            raise UserError(_strip_paths(str(exc))) from None
    else:
        hole = np.zeros((h, w), dtype=bool)
        for layer in editor.get("layers") or []:
            if not layer:
                continue
            try:  # a painted layer is a mask file whose alpha is the hole
                hole |= load_mask(layer, expected_shape=(h, w), max_pixels=max_pixels)
            except ImageLoadError as exc:
                raise UserError(_strip_paths(str(exc))) from None
    if not hole.any():
        raise UserError("Paint the area to fill with the brush (or upload a mask: white = hole).")
    return loaded.rgb, loaded.alpha, hole


def _strip_paths(msg: str) -> str:
    """Gradio stores uploads under temp folders; users see only the file's base name."""
    tmp = tempfile.gettempdir()
    return msg.replace(tmp, "").replace(str(ROOT), "")


# -- running ------------------------------------------------------------------------------

@dataclass
class ModelResult:
    name: str
    image: Optional[np.ndarray]
    seconds: float
    error: str = ""
    attention: Optional[np.ndarray] = None
    scores: Dict[str, float] = field(default_factory=dict)

    @property
    def caption(self) -> str:
        if self.error:
            return f"{self.name}: failed ({self.error})"
        return f"{self.name} · {self.seconds:.2f} s"


_LPIPS = None
_LPIPS_REASON = ""
_LPIPS_LOCK = threading.Lock()


def lpips_metric():
    """The LPIPS metric when its pretrained weights load, else None (reason in lpips_reason())."""
    global _LPIPS, _LPIPS_REASON
    with _LPIPS_LOCK:
        if _LPIPS is None and not _LPIPS_REASON:
            from .metrics.perceptual import LPIPSMetric

            _LPIPS, _LPIPS_REASON = LPIPSMetric.load()
            if _LPIPS is None and not _LPIPS_REASON:
                _LPIPS_REASON = "unavailable"
    return _LPIPS


def lpips_reason() -> str:
    lpips_metric()
    return _LPIPS_REASON


def run_models(rgb: np.ndarray, hole: np.ndarray, names: Sequence[str], progress=None) -> List[ModelResult]:
    """Every model on the same photo; a model that fails is reported, the others still run."""
    x = ops.to_tensor_image(rgb)
    m = ops.to_tensor_mask(hole)
    results = []
    lp = lpips_metric()
    for i, name in enumerate(names):
        if progress is not None:
            progress((i, len(names)), desc=f"running {name}")
        t0 = time.perf_counter()
        try:
            inp = SHARED_CACHE.get(name)
            res = inp.run(x, m)
            seconds = time.perf_counter() - t0
            out = np.where(hole[..., None], ops.to_uint8_image(res.image), rgb)
            attn = ops.to_uint8_image(res.extras["attention"]) if "attention" in res.extras else None
            scores = score(out, rgb, hole, lp)
            results.append(ModelResult(name, out, seconds, attention=attn, scores=scores))
        except Exception as exc:  # one broken model must not take the others down
            msg = _strip_paths(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            results.append(ModelResult(name, None, time.perf_counter() - t0, error=msg[:200]))
    return results


def score(out: np.ndarray, gt: np.ndarray, hole: np.ndarray, lp=None) -> Dict[str, float]:
    """Scores against the uploaded photo (its own ground truth): L1 on the hole, PSNR and
    SSIM on the whole composited image, LPIPS when its weights are available."""
    s = pixel_metrics(out, gt, hole)
    row = {"L1 hole (%)": round(s["l1_hole"], 3), "PSNR (dB)": round(s["psnr"], 2), "SSIM": round(s["ssim"], 4) if s["ssim"] == s["ssim"] else None}
    if lp is not None:
        import torch

        with torch.no_grad():
            row["LPIPS"] = round(float(lp(ops.to_tensor_image(out), ops.to_tensor_image(gt))[0]), 4)
    return row


def score_table(results: Sequence[ModelResult]) -> Tuple[List[str], List[List]]:
    cols = ["model", "time (s)", "L1 hole (%)", "PSNR (dB)", "SSIM"] + (["LPIPS"] if lpips_metric() is not None else [])
    rows = []
    for r in results:
        if r.error:
            rows.append([r.name, round(r.seconds, 2)] + ["failed"] * (len(cols) - 2))
        else:
            rows.append([r.name, round(r.seconds, 2)] + [r.scores.get(c) for c in cols[2:]])
    return cols, rows


def hole_summary(hole: np.ndarray) -> str:
    r = M.hole_ratio(hole)
    return f"Hole: {r * 100:.1f}% of the image (bin {M.bin_label(r)})"


def results_zip(results: Sequence[ModelResult], directory: str) -> str:
    """All results as PNGs in one zip (written under the app's temp folder)."""
    from PIL import Image

    path = Path(directory) / f"inpainting-results-{int(time.time() * 1000)}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for r in results:
            if r.image is None:
                continue
            b = io.BytesIO()
            Image.fromarray(r.image).save(b, format="PNG")
            z.writestr(f"{r.name}.png", b.getvalue())
    return str(path)


# -- leaderboard ------------------------------------------------------------------------------

FIXED = "fixed"
BIN_ORDER = list(M.BIN_LABELS) + [FIXED]
METRIC_LABELS = {"l1": "L1 (%) ↓", "l1_hole": "L1 hole (%) ↓", "psnr": "PSNR (dB) ↑", "ssim": "SSIM ↑", "mse": "MSE ↓", "tv": "TV", "lpips": "LPIPS ↓"}


class LeaderboardError(RuntimeError):
    pass


def leaderboard_datasets(directory: Path = LEADERBOARD_DIR) -> List[str]:
    return sorted(p.stem for p in Path(directory).glob("*.csv") if p.stem != "reported")


def load_leaderboard(dataset: str, directory: Path = LEADERBOARD_DIR):
    import pandas as pd

    path = Path(directory) / f"{dataset}.csv"
    if not path.is_file():
        raise LeaderboardError(f"No leaderboard for '{dataset}' yet (run `python -m hub.benchmark`).")
    try:
        df = pd.read_csv(path)
    except Exception as exc:
        raise LeaderboardError(f"The leaderboard file for '{dataset}' could not be read ({type(exc).__name__}).") from None
    needed = {"model", "mask_kind", "bin", "n"}
    if not needed <= set(df.columns):
        raise LeaderboardError(f"The leaderboard file for '{dataset}' is malformed (missing columns {sorted(needed - set(df.columns))}).")
    return df


def leaderboard_table(df, metric: str, mask_kind: str):
    """Models x bins of `metric`'s mean, with latency and parameter columns."""
    col = f"{metric}_mean"
    if col not in df.columns:
        raise LeaderboardError(f"Metric '{metric}' is not in this leaderboard.")
    d = df[df["mask_kind"] == mask_kind]
    if d.empty:
        raise LeaderboardError(f"No rows for mask kind '{mask_kind}'.")
    pv = d.pivot_table(index="model", columns="bin", values=col, aggfunc="first")
    pv = pv[[b for b in BIN_ORDER if b in pv.columns]]
    extra = d.groupby("model")[["latency_ms_median", "params"]].first()
    out = pv.join(extra).reset_index()
    out.columns = [str(c) for c in out.columns]
    if out[pv.columns.astype(str)].isna().all().all():
        raise LeaderboardError(f"'{metric}' is empty here: {str(d['note'].dropna().iloc[0]) if 'note' in d and d['note'].notna().any() else 'not computed'}")
    return out.round(4)


def load_reported(directory: Path = LEADERBOARD_DIR):
    import pandas as pd

    path = Path(directory) / "reported.csv"
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except Exception:
        return None


def leaderboard_figure(df, metric: str, mask_kind: str, reported=None, dataset: str = ""):
    """Plotly: metric mean against hole-ratio bin, one line per model (fixed masks as points);
    optional dashed overlay of the papers' reported figures, labelled as such."""
    import plotly.graph_objects as go

    col = f"{metric}_mean"
    d = df[df["mask_kind"] == mask_kind]
    fig = go.Figure()
    for model, g in d.groupby("model"):
        g = g.set_index("bin").reindex([b for b in BIN_ORDER if b in set(g["bin"])])
        fig.add_trace(go.Scatter(x=list(g.index), y=list(g[col]), mode="lines+markers", name=model))
    if reported is not None and not reported.empty:
        wanted = {"irregular": {b: b for b in M.BIN_LABELS}, "freeform": {b: b for b in M.BIN_LABELS},
                  "square25": {"fixed": FIXED}, "center": {"center": FIXED}}.get(mask_kind, {})
        r = reported[(reported["metric"] == metric) & (reported["mask"].isin(list(wanted)))]
        if dataset:
            key = {"faces": "celeba", "scenes": "places2", "streetview": "paris"}.get(dataset, dataset)
            r = r[r["dataset"].str.lower().str.contains(key)]
        for (model, ds, src), g in r.groupby(["model", "dataset", "source"]):
            g = g.assign(x=g["mask"].map(wanted)).set_index("x")
            g = g.reindex([b for b in BIN_ORDER if b in set(g.index)])
            fig.add_trace(go.Scatter(x=list(g.index), y=list(g["value"]), mode="lines+markers", line=dict(dash="dot"),
                                     name=f"{model} ({ds}, reported in {src})", opacity=0.6))
    fig.update_layout(xaxis_title="hole ratio bin", yaxis_title=METRIC_LABELS.get(metric, metric), legend_title="model",
                      margin=dict(l=40, r=10, t=30, b=40), height=460)
    return fig


# -- model cards --------------------------------------------------------------------------------

def model_card_markdown(name: str) -> str:
    cfg = get_config(name)
    status = checkpoint_status(name)
    lines = [f"### {name}", f"**Paper:** {cfg.paper}", "", cfg.description or ""]
    if cfg.kind == "classical":
        lines += ["", f"Classical solver (no weights). Arguments: `{cfg.arch}`. Runs at up to {cfg.max_side} px per side."]
        return "\n".join(lines)
    card = read_card(resolve(cfg.checkpoint)) if cfg.checkpoint else None
    lines += ["", f"- Checkpoint: **{status}**" + (f" (`{cfg.checkpoint}`)" if cfg.checkpoint else ""),
              f"- Native size: {cfg.native_size or 'any'} px{' (fixed)' if cfg.fixed_size else ''}; runs at up to {cfg.max_side} px"]
    if card:
        v = card.get("validation", {})
        lines += [f"- Parameters: {card.get('params', '')}" if card.get("params") else "",
                  f"- Architecture: `{card.get('arch')}`",
                  f"- Trained on: {card.get('train_dir')} ({card.get('domain')}), {card.get('steps')} steps, {card.get('images_seen')} images seen, "
                  f"{card.get('wall_time_s', 0) / 60:.0f} min on {card.get('hardware')}",
                  f"- Validation{'' if card.get('val_dir') else ' (a fixed subset of the training folder: no separate validation set)'}: "
                  f"L1 {v.get('l1', float('nan')):.2f}%, PSNR {v.get('psnr', float('nan')):.2f} dB, SSIM {v.get('ssim', float('nan')):.3f}",
                  f"- Losses: {card.get('losses', {}).get('recipe')} recipe; disabled: {', '.join(card.get('disabled_losses', [])) or 'none'}"]
        ws = card.get("warm_start")
        if ws:
            lines.append(f"- Warm start: from `{ws.get('from')}` ({ws.get('parent_domain')}; {ws.get('parent_steps')} steps, "
                         f"{ws.get('parent_images_seen')} images seen before this run)")
        bar = card.get("quality_bar")
        if bar:
            fails = [f"{c['mask']} {c['metric']}" for c in bar.get("checks", []) if not c.get("pass")]
            lines.append(f"- Quality bar on {bar.get('dataset')} (beat Telea and Navier-Stokes): **{'met' if bar.get('passes') else 'not met'}**"
                         + (f"; misses {', '.join(fails)}" if fails else ""))
    lines += ["", f"*License:* {cfg.license}"]
    return "\n".join(l for l in lines if l is not None)
