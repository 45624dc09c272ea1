"""Safe image and mask input/output: the one loader used by the CLI, the app and the benchmark.

Everything that enters the hub from a file goes through `load_image` / `load_mask`, which
- accept only an allowlist of raster formats (identified from the bytes, not the name),
- check the pixel count from the header before any pixel is decoded (pixel bombs),
- apply the EXIF orientation,
- turn every mode Pillow knows (RGBA, LA, P, CMYK, 16-bit, 1-bit, grayscale) into RGB uint8,
  keeping alpha aside so that it can be re-attached on output,
- and report any failure as one typed error, `ImageLoadError`, with a plain message.
"""
from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Optional, Union

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

# Decoded formats (Pillow's format names). SVG, PDF, EPS and friends are not raster
# photos and some of their decoders run external programs: never accepted.
ALLOWED_FORMATS = frozenset({"PNG", "JPEG", "MPO", "WEBP", "BMP", "TIFF", "GIF"})
# Largest image accepted: 4096 x 4096. Checked on the header, before decoding.
DEFAULT_MAX_PIXELS = 4096 * 4096
MASK_THRESHOLD = 127

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated file is an error, never half an image

Source = Union[str, os.PathLike, bytes, BinaryIO]


class ImageLoadError(ValueError):
    """An input file is not a usable image (or mask). The message is meant for users."""


@dataclass
class LoadedImage:
    """An RGB uint8 image (H, W, 3) and, when the file had one, its alpha (H, W) uint8."""

    rgb: np.ndarray
    alpha: Optional[np.ndarray] = None
    format: str = ""

    @property
    def shape(self):
        return self.rgb.shape[:2]


def _describe(source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return "the uploaded file"


def _open_checked(source: Source, max_pixels: int) -> Image.Image:
    """Open, identify and size-check without decoding; then decode fully."""
    what = _describe(source)
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        if isinstance(source, (str, os.PathLike)):
            p = Path(source)
            if not p.is_file():
                raise ImageLoadError(f"{what}: no such file")
            if p.stat().st_size == 0:
                raise ImageLoadError(f"{what}: the file is empty")
        with warnings.catch_warnings():
            # Pillow's own bomb guard warns first and errors at twice its limit;
            # here both are errors.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(source)
            if im.format not in ALLOWED_FORMATS:
                fmt = im.format or "unknown"
                im.close()
                raise ImageLoadError(
                    f"{what}: format {fmt} is not accepted "
                    f"(use one of {', '.join(sorted(ALLOWED_FORMATS - {'MPO'}))})"
                )
            w, h = im.size
            if w < 1 or h < 1:
                raise ImageLoadError(f"{what}: the image has no pixels")
            if w * h > max_pixels:
                im.close()
                raise ImageLoadError(
                    f"{what}: {w}x{h} is {w * h / 1e6:.1f} megapixels, over the limit of "
                    f"{max_pixels / 1e6:.1f} megapixels; downscale it first"
                )
            im.load()
            return im
    except ImageLoadError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageLoadError(
            f"{what}: refused, the image declares more pixels than the limit of "
            f"{max_pixels / 1e6:.1f} megapixels (a decompression bomb?)"
        ) from None
    except UnidentifiedImageError:
        raise ImageLoadError(f"{what}: not an image file (or a format that is not accepted)") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        msg = str(exc).split("\n")[0] or type(exc).__name__
        if "truncated" in msg.lower():
            msg = "the file is truncated"
        raise ImageLoadError(f"{what}: the image could not be decoded ({msg})") from None
    except MemoryError:
        raise ImageLoadError(f"{what}: the image is too large to decode") from None


def _to_uint8_gray(arr: np.ndarray, mode: str) -> np.ndarray:
    """Scale a 16/32-bit or float single-channel array to uint8 (never clip to white)."""
    if mode == "F":
        a = arr.astype(np.float64)
        hi = 1.0 if np.nanmax(a) <= 1.0 else float(np.nanmax(a))
        return np.clip(np.round(np.nan_to_num(a) / hi * 255.0), 0, 255).astype(np.uint8)
    a = arr.astype(np.float64)
    # 16-bit files (I;16*, or I holding 16-bit samples) span 0..65535.
    hi = 65535.0 if (mode.startswith("I;16") or a.max(initial=0) > 255) else 255.0
    if a.max(initial=0) > 65535:
        hi = float(a.max())
    return np.clip(np.round(a / hi * 255.0), 0, 255).astype(np.uint8)


def _normalise(im: Image.Image) -> LoadedImage:
    fmt = im.format or ""
    im = ImageOps.exif_transpose(im)
    mode = im.mode
    alpha = None
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        im = im.convert("RGBA") if mode != "LA" else im
        alpha = np.array(im.getchannel("A"), dtype=np.uint8)
        rgb = np.array(im.convert("RGB"), dtype=np.uint8) if mode != "LA" else None
        if rgb is None:
            gray = np.array(im.getchannel("L"), dtype=np.uint8)
            rgb = np.repeat(gray[..., None], 3, axis=2)
        if alpha.min() == 255:
            alpha = None  # fully opaque: nothing to re-attach
        return LoadedImage(np.ascontiguousarray(rgb), alpha, fmt)
    if mode.startswith("I") or mode == "F":
        gray = _to_uint8_gray(np.array(im), mode)
        return LoadedImage(np.repeat(gray[..., None], 3, axis=2), None, fmt)
    if mode != "RGB":
        im = im.convert("RGB")  # 1, L, CMYK, YCbCr, LAB, HSV
    return LoadedImage(np.ascontiguousarray(np.array(im, dtype=np.uint8)), None, fmt)


def load_image(source: Source, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Load any accepted image as RGB uint8 (alpha kept aside). Raises ImageLoadError."""
    im = _open_checked(source, max_pixels)
    try:
        return _normalise(im)
    except ImageLoadError:
        raise
    except (OSError, ValueError, MemoryError) as exc:
        raise ImageLoadError(f"{_describe(source)}: the image could not be converted ({exc})") from None
    finally:
        im.close()


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def list_images(folder: Union[str, os.PathLike]) -> list:
    """Image files of a folder (by extension), sorted; an error when there are none."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {folder} does not exist")
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no images in {folder}")
    return files


def centre_square(rgb: np.ndarray, size: int) -> np.ndarray:
    """The centred square of the shorter side, resized to size x size (area down, cubic up)."""
    import cv2

    h, w = rgb.shape[:2]
    s = min(h, w)
    t, l = (h - s) // 2, (w - s) // 2
    sq = rgb[t : t + s, l : l + s]
    if s == size:
        return np.ascontiguousarray(sq)
    return cv2.resize(sq, (size, size), interpolation=cv2.INTER_AREA if s > size else cv2.INTER_CUBIC)


def mask_from_array(arr: np.ndarray, threshold: int = MASK_THRESHOLD) -> np.ndarray:
    """Binarise a mask array: (H, W) gray, (H, W, 3) RGB or (H, W, 4) RGBA -> bool, True = hole.

    With an alpha channel that is not fully opaque the hole is the alpha (a painted layer);
    otherwise it is the brightness (white = hole, the convention of the irregular masks).
    """
    a = np.asarray(arr)
    if a.dtype == bool:
        return a if a.ndim == 2 else a.any(axis=-1)
    if a.dtype != np.uint8:
        a = np.asarray(a, dtype=np.float64)
        if a.max(initial=0) <= 1.0:
            a = a * 255.0
    if a.ndim == 3 and a.shape[2] == 4:
        if a[..., 3].min() < 255:
            return a[..., 3] > threshold
        a = a[..., :3]
    if a.ndim == 3:
        a = a.mean(axis=2)
    if a.ndim != 2:
        raise ImageLoadError(f"a mask must be a 2-D image, got shape {tuple(np.shape(arr))}")
    return a > threshold


def load_mask(
    source: Source,
    expected_shape: Optional[tuple] = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Load a mask file as bool (H, W), True = hole, binarised at 127.

    A mask whose size differs from its image is an error: it is never resized silently.
    """
    im = _open_checked(source, max_pixels)
    try:
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            arr = np.array(im.convert("RGBA"))
        elif im.mode.startswith("I") or im.mode == "F":
            arr = _to_uint8_gray(np.array(im), im.mode)
        else:
            arr = np.array(im.convert("L"))
    finally:
        im.close()
    mask = mask_from_array(arr)
    if expected_shape is not None and tuple(mask.shape) != tuple(expected_shape[:2]):
        h, w = expected_shape[:2]
        raise ImageLoadError(
            f"{_describe(source)}: the mask is {mask.shape[1]}x{mask.shape[0]} but the image is "
            f"{w}x{h}; a mask must have exactly the image's size"
        )
    return mask


def save_image(path: Union[str, os.PathLike], rgb: np.ndarray, alpha: Optional[np.ndarray] = None) -> None:
    """Write RGB uint8 (re-attaching alpha when given) atomically: temp file, then rename."""
    path = Path(path)
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("save_image expects an (H, W, 3) uint8 array")
    if alpha is not None:
        im = Image.fromarray(np.dstack([rgb, alpha.astype(np.uint8)]), "RGBA")
    else:
        im = Image.fromarray(rgb, "RGB")
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path.name}: unknown output extension (use .png, .jpg or .webp)")
    if fmt == "JPEG" and im.mode == "RGBA":
        im = im.convert("RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    kwargs = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    im.save(tmp, format=fmt, **kwargs)
    os.replace(tmp, path)
