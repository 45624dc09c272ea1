"""Checkpoint files: safetensors weights, a sha256 checked before deserialising, a model card.

Never `torch.load` (pickle) for weights: a safetensors file holds tensors and nothing that
runs. The checksum is read from the pinned registry record, not from the card beside the
file, so a swapped file is caught even when its card was swapped too.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Dict, Optional

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

# HUB_CHECKPOINT_DIR points the hub at another folder of checkpoints (tests, deployments).
CHECKPOINT_DIR = Path(os.environ.get("HUB_CHECKPOINT_DIR") or Path(__file__).resolve().parent.parent / "checkpoints")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt, or does not fit its model."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def resolve(name: str, directory: Optional[os.PathLike] = None) -> Path:
    return Path(directory or CHECKPOINT_DIR) / name


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_weights(
    state_dict: Dict[str, torch.Tensor],
    path: os.PathLike,
    card: Optional[Dict[str, Any]] = None,
    half: bool = False,
) -> str:
    """Write weights as safetensors (optionally fp16) and a card `<stem>.json` beside them.

    Returns the sha256 of the weights file, which is also recorded in the card.
    """
    path = Path(path)
    tensors = {}
    for k, v in state_dict.items():
        v = v.detach().cpu().contiguous()
        if half and v.is_floating_point():
            v = v.half()
        tensors[k] = v
    data = st_save(tensors, metadata={"format": "pt"})
    digest = sha256_bytes(data)
    _atomic_write(path, data)
    if card is not None:
        card = dict(card)
        card["file"] = path.name
        card["sha256"] = digest
        card["size_bytes"] = len(data)
        card["dtype"] = "float16" if half else "float32"
        write_card(path, card)
    return digest


def load_weights(path: os.PathLike, expected_sha256: Optional[str]) -> Dict[str, torch.Tensor]:
    """Read a safetensors file after checking its sha256; fp16 tensors come back as fp32."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path.name} is not present")
    data = path.read_bytes()
    if expected_sha256 is not None:
        got = sha256_bytes(data)
        if got != expected_sha256:
            raise CheckpointError(
                f"checkpoint {path.name} failed its checksum (sha256 {got[:12]}..., expected "
                f"{expected_sha256[:12]}...): the file is corrupt or not the registered one"
            )
    try:
        tensors = st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint {path.name} is not a valid safetensors file ({exc})") from None
    return {k: (v.float() if v.dtype in (torch.float16, torch.bfloat16) else v) for k, v in tensors.items()}


def write_card(path: os.PathLike, card: Dict[str, Any]) -> None:
    """Write (atomically) the model card beside a weights file."""
    _atomic_write(Path(path).with_suffix(".json"), (json.dumps(card, indent=2, sort_keys=True) + "\n").encode())


def read_card(path: os.PathLike) -> Optional[Dict[str, Any]]:
    """The model card beside a weights file, or None when absent or unreadable."""
    card = Path(path).with_suffix(".json")
    try:
        return json.loads(card.read_text())
    except (OSError, ValueError):
        return None


def load_into(module: torch.nn.Module, state: Dict[str, torch.Tensor], name: str) -> None:
    """load_state_dict with a readable error when the file does not fit the architecture."""
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0:3]
        raise CheckpointError(f"checkpoint for {name} does not fit its architecture: {' '.join(first)}") from None
