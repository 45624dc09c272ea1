"""Hole masks: seeded generators, the irregular mask set, the papers' fixed masks, mosaic.

Conventions: a mask is a bool array (H, W), True = hole. Every random mask is a pure
function of its arguments: seeds come from `derive_seed`, a sha256 of the parts (never
Python's per-process salted `hash()`), so masks are identical across processes, machines
and PYTHONHASHSEED values.

Hole-ratio bins: bin k (k = 0..5) holds ratios r with k/10 < r <= (k+1)/10, i.e. the
upper edge belongs to the bin (the "(0.1, 0.2]" convention of MSA-Net's Table 6). A ratio
of exactly 0 or above 0.6 is in no bin. The ratio is always measured on the mask as
applied, at the evaluation size.
"""
from __future__ import annotations

import hashlib
import math
from functools import lru_cache
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

import numpy as np

BINS: Tuple[Tuple[float, float], ...] = tuple((k / 10, (k + 1) / 10) for k in range(6))
BIN_LABELS: Tuple[str, ...] = tuple(f"{int(lo * 100)}-{int(hi * 100)}%" for lo, hi in BINS)


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from any parts, stable everywhere (sha256 of their text)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") >> 1


def hole_ratio(mask: np.ndarray) -> float:
    return float(np.count_nonzero(mask)) / float(mask.size)


def bin_index(ratio: float) -> Optional[int]:
    """Bin of a hole ratio under the (lo, hi] convention; None outside (0, 0.6]."""
    if ratio <= 0.0 or ratio > BINS[-1][1] + 1e-12:
        return None
    k = int(math.ceil(round(ratio * 10, 9))) - 1
    return max(0, min(k, len(BINS) - 1))


def bin_label(ratio: float) -> str:
    k = bin_index(ratio)
    return BIN_LABELS[k] if k is not None else ("empty" if ratio <= 0 else ">60%")


# -- fixed masks of the papers -----------------------------------------------------------

def central_square(h: int, w: int, fraction: float = 0.5) -> np.ndarray:
    """A centred square whose side is `fraction` of the shorter side (001: 128x128 on 256x256)."""
    side = max(1, int(round(min(h, w) * fraction)))
    t, l = (h - side) // 2, (w - side) // 2
    m = np.zeros((h, w), dtype=bool)
    m[t : t + side, l : l + side] = True
    return m


def random_square(h: int, w: int, seed: int, area: float = 0.25) -> np.ndarray:
    """A square covering `area` of the image at a seeded random position (002's "Fixed" column)."""
    side = max(1, min(h, w, int(round(math.sqrt(area * h * w)))))
    rng = np.random.default_rng(seed)
    t = int(rng.integers(0, h - side + 1))
    l = int(rng.integers(0, w - side + 1))
    m = np.zeros((h, w), dtype=bool)
    m[t : t + side, l : l + side] = True
    return m


# -- free-form generator ---------------------------------------------------------------

def _stroke(canvas: np.ndarray, rng: np.random.Generator, max_width: int) -> None:
    import cv2

    h, w = canvas.shape
    y, x = float(rng.integers(0, h)), float(rng.integers(0, w))
    width = int(rng.integers(max(2, max_width // 4), max_width + 1))
    for _ in range(int(rng.integers(3, 10))):
        angle = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(0.05, 0.25) * max(h, w)
        ny = float(np.clip(y + length * np.sin(angle), 0, h - 1))
        nx = float(np.clip(x + length * np.cos(angle), 0, w - 1))
        cv2.line(canvas, (int(x), int(y)), (int(nx), int(ny)), 255, width)
        cv2.circle(canvas, (int(nx), int(ny)), width // 2, 255, -1)
        y, x = ny, nx


def _box(canvas: np.ndarray, rng: np.random.Generator) -> None:
    h, w = canvas.shape
    bh = int(rng.integers(max(1, h // 10), max(2, h // 3)))
    bw = int(rng.integers(max(1, w // 10), max(2, w // 3)))
    t, l = int(rng.integers(0, max(1, h - bh))), int(rng.integers(0, max(1, w - bw)))
    canvas[t : t + bh, l : l + bw] = 255


def free_form(h: int, w: int, bin_k: int, seed: int, max_tries: int = 50) -> np.ndarray:
    """A seeded free-form mask (strokes plus boxes, after the generators of LaMa and gated
    convolution) whose hole ratio falls inside bin `bin_k`.

    Strokes and boxes are added one at a time until the ratio passes a target drawn inside
    the bin; a draw that jumps past the bin is retried from a derived seed.
    """
    lo, hi = BINS[bin_k]
    min_pixels = 1
    for attempt in range(max_tries):
        rng = np.random.default_rng(derive_seed("free_form", seed, attempt))
        target = rng.uniform(lo + 0.15 * (hi - lo), hi - 0.05 * (hi - lo))
        canvas = np.zeros((h, w), dtype=np.uint8)
        max_width = max(3, int(min(h, w) * rng.uniform(0.04, 0.12)))
        while True:
            if rng.random() < 0.2:
                _box(canvas, rng)
            else:
                _stroke(canvas, rng, max_width)
            r = np.count_nonzero(canvas) / canvas.size
            if r >= target:
                break
        m = canvas > 0
        if bin_index(hole_ratio(m)) == bin_k and np.count_nonzero(m) >= min_pixels:
            return m
    raise RuntimeError(f"could not draw a mask in bin {BIN_LABELS[bin_k]} at {h}x{w}")


def blob(h: int, w: int, seed: int, lo: float = 0.3, hi: float = 0.6) -> np.ndarray:
    """A seeded large hole: overlapping ellipses and thick strokes grown until the ratio
    passes a target in (lo, hi], then a few small known islands cut back in.

    The free-form strokes above stay thin even at 50-60%; the large-ratio masks of Liu et
    al. 2018 are mostly one thick region with ragged edges and islands. Training on these
    (after LaMa's "thick" masks) is what the big-hole bins need; test masks are never used.
    """
    import cv2

    rng = np.random.default_rng(derive_seed("blob", seed))
    target = rng.uniform(lo, hi)
    side = min(h, w)
    canvas = np.zeros((h, w), dtype=np.uint8)
    cy, cx = rng.uniform(0.25, 0.75) * h, rng.uniform(0.25, 0.75) * w
    while np.count_nonzero(canvas) / canvas.size < target:
        if rng.random() < 0.6:
            y = int(np.clip(cy + rng.normal(0, 0.2) * h, 0, h - 1))
            x = int(np.clip(cx + rng.normal(0, 0.2) * w, 0, w - 1))
            axes = (int(side * rng.uniform(0.08, 0.3)), int(side * rng.uniform(0.08, 0.3)))
            cv2.ellipse(canvas, (x, y), axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
        else:
            _stroke(canvas, rng, max(4, int(side * 0.2)))
    for _ in range(int(rng.integers(0, 6))):
        y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
        r = max(1, int(side * rng.uniform(0.01, 0.05)))
        cv2.circle(canvas, (x, y), r, 0, -1)
    m = canvas > 0
    if hole_ratio(m) > hi:
        m &= ~_trim(m, hi, rng)
    return m


def _trim(m: np.ndarray, hi: float, rng: np.random.Generator) -> np.ndarray:
    """Rows cut from the hole's far side so that the ratio ends at or below `hi`."""
    h, w = m.shape
    cut = np.zeros_like(m)
    excess = int(np.count_nonzero(m) - hi * m.size) + 1
    rows = range(h) if rng.random() < 0.5 else range(h - 1, -1, -1)
    for r in rows:
        if excess <= 0:
            break
        cut[r] = m[r]
        excess -= int(np.count_nonzero(m[r]))
    return cut


# -- the irregular mask set of Liu et al. 2018 -------------------------------------------

class IrregularMasks:
    """The NVIDIA irregular hole masks read from a folder (white = hole, 512x512 PNG).

    File index i belongs to nominal bin i // 2000; in each bin the first 1000 touch the
    border. The nominal bin is only a hint: callers bin by the ratio measured after resizing.
    """

    PER_BIN = 2000

    def __init__(self, root: str):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"mask folder {root} does not exist")
        self.files = sorted(p for p in self.root.iterdir() if p.suffix.lower() == ".png")
        if not self.files:
            raise FileNotFoundError(f"no PNG masks in {root}")

    def __len__(self) -> int:
        return len(self.files)

    def nominal_bin(self, index: int) -> int:
        return int(self.files[index].stem) // self.PER_BIN if self.files[index].stem.isdigit() else -1

    def ids_for_bin(self, bin_k: int) -> List[int]:
        return [i for i in range(len(self.files)) if self.nominal_bin(i) == bin_k]

    def load(self, index: int, size: Tuple[int, int]) -> np.ndarray:
        return _load_resized(str(self.files[index]), size)

    def pick(self, bin_k: int, count: int, seed: int, size: Tuple[int, int]) -> List[Tuple[int, np.ndarray]]:
        """`count` masks whose measured ratio at `size` lies in bin_k, in a seeded order."""
        candidates = self.ids_for_bin(bin_k) or list(range(len(self.files)))
        order = np.random.default_rng(derive_seed("irregular", bin_k, seed)).permutation(len(candidates))
        out = []
        for j in order:
            idx = candidates[int(j)]
            m = self.load(idx, size)
            if bin_index(hole_ratio(m)) == bin_k:
                out.append((idx, m))
                if len(out) == count:
                    break
        return out


@lru_cache(maxsize=4096)
def _load_resized_cached(path: str, size: Tuple[int, int]) -> bytes:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("L")
        if im.size != (size[1], size[0]):
            im = im.resize((size[1], size[0]), Image.NEAREST)
        return np.packbits(np.array(im) > 127).tobytes()


def _load_resized(path: str, size: Tuple[int, int]) -> np.ndarray:
    bits = np.frombuffer(_load_resized_cached(path, tuple(size)), dtype=np.uint8)
    return np.unpackbits(bits)[: size[0] * size[1]].reshape(size).astype(bool)


# -- mosaic degradation (001 sec. IV-D) ---------------------------------------------------

def mosaic(image: np.ndarray, unit: int = 12) -> np.ndarray:
    """Downsample by `unit` then upsample bilinearly: the mosaic effect of 001 (unit size 12).
    image (H, W, 3) uint8 -> same shape."""
    import cv2

    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, w // unit), max(1, h // unit)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def mosaic_blend(image: np.ndarray, mask: np.ndarray, unit: int = 12) -> np.ndarray:
    """The mosaic task input: the masked region replaced by its mosaic, the rest untouched."""
    return np.where(mask[..., None], mosaic(image, unit), image)


_TRAINING_MASKS = {
    "free_form": lambda h, w, rng, seed: free_form(h, w, int(rng.integers(0, len(BINS))), seed),
    "box": lambda h, w, rng, seed: random_square(h, w, seed, area=float(rng.uniform(0.06, 0.35))),
    "blob": lambda h, w, rng, seed: blob(h, w, seed),
    "center": lambda h, w, rng, seed: central_square(h, w),
}
TRAINING_MASK_KINDS = tuple(_TRAINING_MASKS)


def check_training_kinds(kinds: Iterable[str]) -> Tuple[str, ...]:
    """`kinds` as a tuple, or a ValueError naming the unknown ones and the known ones."""
    kinds = tuple(kinds)
    bad = sorted(set(kinds) - set(_TRAINING_MASKS))
    if bad:
        raise ValueError(f"unknown training mask kind {bad}; known: {', '.join(TRAINING_MASK_KINDS)}")
    return kinds


def training_mask(h: int, w: int, rng: np.random.Generator, kinds: Iterable[str] = ("free_form", "box")) -> np.ndarray:
    """One random training mask: a free-form mask from any bin up to 60%, a box, a large
    blob (30-60%) or the central square, chosen uniformly among `kinds`."""
    kinds = list(kinds)
    kind = kinds[int(rng.integers(0, len(kinds)))]
    seed = int(rng.integers(0, 2**62))
    draw = _TRAINING_MASKS.get(kind)
    if draw is None:
        check_training_kinds([kind])  # raises the error that names the known kinds
    return draw(h, w, rng, seed)
