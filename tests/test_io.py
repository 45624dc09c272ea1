"""Safe image input: every bad file gives a valid RGB array or ImageLoadError, nothing else."""
from __future__ import annotations

import io
import resource
import zlib
import struct

import numpy as np
import pytest
from PIL import Image

from hub.io import ImageLoadError, load_image, load_mask, mask_from_array, save_image


def _png_bytes(im: Image.Image, **kw) -> bytes:
    b = io.BytesIO()
    im.save(b, format="PNG", **kw)
    return b.getvalue()


def _bomb_png(w: int, h: int) -> bytes:
    """A valid 1-bit PNG header of w x h with a tiny compressed body (a pixel bomb)."""
    def chunk(t, data):
        return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data) & 0xFFFFFFFF)
    row = b"\x00" + b"\x00" * ((w + 7) // 8)
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(2000)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def test_plain_png_roundtrip(tmp_path, photo):
    p = tmp_path / "a.png"
    save_image(p, photo)
    got = load_image(p)
    assert got.rgb.dtype == np.uint8 and np.array_equal(got.rgb, photo) and got.alpha is None


def test_truncated_jpeg(tmp_path, photo):
    b = io.BytesIO()
    Image.fromarray(photo).save(b, format="JPEG")
    p = tmp_path / "t.jpg"
    p.write_bytes(b.getvalue()[: len(b.getvalue()) // 2])
    with pytest.raises(ImageLoadError, match="truncated|decoded"):
        load_image(p)


def test_zero_byte_file(tmp_path):
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    with pytest.raises(ImageLoadError, match="empty"):
        load_image(p)


def test_text_named_png(tmp_path):
    p = tmp_path / "notes.png"
    p.write_text("hello, I am not a picture\n" * 20)
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(p)


def test_svg_refused(tmp_path):
    p = tmp_path / "v.svg"
    p.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')
    with pytest.raises(ImageLoadError):
        load_image(p)


def test_pixel_bomb_refused_with_bounded_memory(tmp_path):
    p = tmp_path / "bomb.png"
    p.write_bytes(_bomb_png(30000, 30000))
    assert p.stat().st_size < 1_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ImageLoadError, match="megapixels"):
        load_image(p)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, f"loading a refused bomb grew RSS by {grown_mb:.0f} MB"


def test_cmyk_jpeg(tmp_path, photo):
    p = tmp_path / "cmyk.jpg"
    Image.fromarray(photo).convert("CMYK").save(p, format="JPEG")
    got = load_image(p)
    assert got.rgb.shape == photo.shape and got.rgb.dtype == np.uint8
    assert np.abs(got.rgb.astype(int) - photo.astype(int)).mean() < 20


def test_16bit_ramp_keeps_levels(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 512).astype(np.uint16), (8, 1))
    p = tmp_path / "ramp16.png"
    Image.fromarray(ramp).save(p)
    got = load_image(p)
    assert got.rgb.shape == (8, 512, 3)
    assert len(np.unique(got.rgb[..., 0])) > 200, "16-bit must be scaled, not clipped to white"
    assert got.rgb[0, 0, 0] == 0 and got.rgb[0, -1, 0] == 255


def test_palette_with_transparency(tmp_path):
    im = Image.new("P", (20, 10))
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(1, (0, 0, 10, 10))
    p = tmp_path / "pal.png"
    im.save(p, transparency=0)
    got = load_image(p)
    assert got.rgb.shape == (10, 20, 3)
    assert got.alpha is not None and got.alpha[0, 0] == 255 and got.alpha[0, 15] == 0
    assert tuple(got.rgb[0, 0]) == (255, 0, 0)


def test_rgba_alpha_kept_aside_and_reattached(tmp_path, photo):
    alpha = np.full(photo.shape[:2], 200, np.uint8)
    p = tmp_path / "rgba.png"
    Image.fromarray(np.dstack([photo, alpha]), "RGBA").save(p)
    got = load_image(p)
    assert np.array_equal(got.rgb, photo) and np.array_equal(got.alpha, alpha)
    out = tmp_path / "out.png"
    save_image(out, got.rgb, got.alpha)
    assert Image.open(out).mode == "RGBA"


def test_grayscale_and_la(tmp_path, photo):
    g = Image.fromarray(photo).convert("L")
    p = tmp_path / "g.png"
    g.save(p)
    assert load_image(p).rgb.shape == photo.shape
    p2 = tmp_path / "la.png"
    g.convert("LA").save(p2)
    assert load_image(p2).rgb.shape == photo.shape


def test_exif_orientation_applied_to_image_and_mask(tmp_path):
    arr = np.zeros((10, 20, 3), np.uint8)
    arr[:, :5] = 255  # white band on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    p = tmp_path / "rot.jpg"
    Image.fromarray(arr).save(p, exif=exif, quality=100)
    got = load_image(p)
    assert got.rgb.shape == (20, 10, 3)
    assert got.rgb[:5, :, 0].mean() > 200 and got.rgb[-5:, :, 0].mean() < 50
    mp = tmp_path / "rot_mask.png"
    Image.fromarray(arr[..., 0]).save(mp, exif=exif)
    m = load_mask(mp, expected_shape=got.rgb.shape)
    assert m.shape == (20, 10) and m[:5].all() and not m[-5:].any()


def test_mask_of_another_size_is_an_error(tmp_path, photo_file):
    p = tmp_path / "small_mask.png"
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(p)
    with pytest.raises(ImageLoadError, match="exactly the image's size"):
        load_mask(p, expected_shape=load_image(photo_file).shape)


def test_mask_binarised_at_127():
    a = np.array([[0, 127, 128, 255]], np.uint8)
    assert mask_from_array(a).tolist() == [[False, False, True, True]]
    rgba = np.zeros((1, 2, 4), np.uint8)
    rgba[0, 1] = (255, 255, 255, 255)
    assert mask_from_array(rgba).tolist() == [[False, True]]


def test_never_another_exception_on_junk(tmp_path):
    rng = np.random.default_rng(0)
    headers = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"RIFF\x00\x00\x00\x00WEBP", b""]
    for i in range(60):
        p = tmp_path / f"junk{i}.png"
        p.write_bytes(headers[i % len(headers)] + rng.integers(0, 256, int(rng.integers(0, 400)), dtype=np.uint8).tobytes())
        try:
            got = load_image(p)
            assert got.rgb.dtype == np.uint8 and got.rgb.ndim == 3 and got.rgb.shape[2] == 3
        except ImageLoadError:
            pass
