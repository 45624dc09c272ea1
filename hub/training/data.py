"""Training and validation data: images from a folder, crops, flips and masks, all a pure
function of (seed, step, index) so that a resumed run draws exactly the batches it would
have drawn without the interruption."""
from __future__ import annotations

from typing import List, Sequence, Tuple

import cv2
import numpy as np
import torch
from tqdm import tqdm

from ..io import ImageLoadError, centre_square, list_images, load_image
from ..masks import BINS, blob, central_square, derive_seed, free_form, training_mask

def _resize_short(rgb: np.ndarray, short: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = short / min(h, w)
    if abs(s - 1.0) < 1e-6:
        return rgb
    return cv2.resize(rgb, (max(short, round(w * s)), max(short, round(h * s))), interpolation=cv2.INTER_AREA)


class ImageBank:
    """All images of a folder decoded once into memory, short side = `short` pixels."""

    def __init__(self, folder: str, short: int, limit: int = 0, desc: str = "loading"):
        files = list_images(folder)
        if limit:
            files = files[:limit]
        self.images: List[np.ndarray] = []
        self.names: List[str] = []
        for p in tqdm(files, desc=desc, unit="img", leave=False):
            try:
                self.images.append(_resize_short(load_image(p).rgb, short))
                self.names.append(p.name)
            except ImageLoadError as exc:
                tqdm.write(f"skipping {exc}")
        if not self.images:
            raise FileNotFoundError(f"no readable images in {folder}")

    def __len__(self) -> int:
        return len(self.images)


class TrainSampler:
    """Batch `step` of a run: random scale crop, flip and a mask per image."""

    def __init__(self, bank: ImageBank, size: int, batch: int, seed: int, mask_kinds: Sequence[str], rank: int = 0, world: int = 1):
        self.bank, self.size, self.batch, self.seed = bank, size, batch, seed
        self.mask_kinds = tuple(mask_kinds)
        self.rank, self.world = rank, world

    def _index(self, step: int, i: int) -> int:
        global_pos = (step * self.world + self.rank) * self.batch + i
        n = len(self.bank)
        epoch, pos = divmod(global_pos, n)
        perm = np.random.default_rng(derive_seed("perm", self.seed, epoch)).permutation(n)
        return int(perm[pos])

    def sample(self, step: int) -> Tuple[torch.Tensor, torch.Tensor]:
        imgs, masks = [], []
        for i in range(self.batch):
            rgb = self.bank.images[self._index(step, i)]
            rng = np.random.default_rng(derive_seed("sample", self.seed, step, self.rank, i))
            h, w = rgb.shape[:2]
            side = int(round(min(h, w) * rng.uniform(0.7, 1.0)))
            t = int(rng.integers(0, h - side + 1))
            l = int(rng.integers(0, w - side + 1))
            crop = cv2.resize(rgb[t : t + side, l : l + side], (self.size, self.size), interpolation=cv2.INTER_AREA)
            if rng.random() < 0.5:
                crop = crop[:, ::-1]
            imgs.append(torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1))
            masks.append(torch.from_numpy(training_mask(self.size, self.size, rng, self.mask_kinds)))
        x = torch.stack(imgs).float() / 255.0
        m = torch.stack(masks)[:, None].float()
        return x, m


VALIDATION_MASKS = "free-form bins 0-60%, central square and large blob, fixed seeds"


def validation_set(folder: str, size: int, count: int, seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """A fixed validation subset: the first `count` images (centre crop) with fixed masks
    cycling through the six free-form bins, the central square and a large blob (the
    kind where networks trail diffusion, so model selection must see it)."""
    bank = ImageBank(folder, size, limit=count, desc="validation")
    imgs, masks = [], []
    for i, rgb in enumerate(bank.images):
        imgs.append(torch.from_numpy(centre_square(rgb, size)).permute(2, 0, 1))
        kind = i % (len(BINS) + 2)
        if kind < len(BINS):
            m = free_form(size, size, kind, derive_seed("val", seed, i))
        elif kind == len(BINS):
            m = central_square(size, size)
        else:
            m = blob(size, size, derive_seed("val", seed, i))
        masks.append(torch.from_numpy(m))
    return torch.stack(imgs).float() / 255.0, torch.stack(masks)[:, None].float()
