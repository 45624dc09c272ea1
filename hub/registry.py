"""Model registry: every inpainting model of the hub under one `family.variant` name.

Standard library only, so that anything (CLI listing, docs, tests) can enumerate the
zoo without importing torch. A registry entry pairs a builder (returns the network or
the classical solver) with a `ModelConfig` record: the facts a caller needs to feed
the model correctly and to know where it came from.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple


class UnknownModelError(KeyError):
    """Raised for a model name that is not registered."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message plain
        return str(self.args[0]) if self.args else "unknown model"


@dataclass(frozen=True)
class ModelConfig:
    """What the hub knows about one registered model (metadata, not code).

    name:          `family.variant`, e.g. `deepfill_v1.faces_256`.
    family:        the model family (one file in hub/models per family).
    paper:         citation of the paper the architecture comes from.
    kind:          "classical" (no weights) or "learned".
    arch:          keyword arguments for the family's network constructor.
    native_size:   side the network was trained at (None: any size).
    fixed_size:    True when the network only accepts exactly native_size x native_size.
    max_side:      largest side the model is run at; larger inputs go through the
                   resize or crop strategy (its compute budget).
    input_range:   value range the network expects; the Inpainter maps [0, 1] to it.
    pad_mod:       spatial dims are reflect-padded to a multiple of this.
    prefill:       what the hole holds in the network input: "zeros" or "ns"
                   (Navier-Stokes pre-fill, the hole_ns variant).
    checkpoint:    file name under checkpoints/ (learned models with trained weights).
    sha256:        expected sha256 of that file; verified before deserialising.
    domain:        training domain of the weights ("faces", "scenes") or "any".
    license:       license note for the weights / the data they were trained on.
    description:   one line for listings.
    test_only:     tiny random-weight variants used by the test-suite.
    """

    name: str
    family: str
    paper: str
    kind: str = "learned"
    arch: Dict[str, Any] = field(default_factory=dict)
    native_size: Optional[int] = None
    fixed_size: bool = False
    max_side: int = 1024
    input_range: Tuple[float, float] = (-1.0, 1.0)
    pad_mod: int = 8
    prefill: str = "zeros"
    checkpoint: Optional[str] = None
    sha256: Optional[str] = None
    domain: str = "any"
    license: str = ""
    description: str = ""
    test_only: bool = False

    @property
    def variant(self) -> str:
        return self.name.split(".", 1)[1] if "." in self.name else ""

    def replace(self, **changes: Any) -> "ModelConfig":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class RegistryEntry:
    config: ModelConfig
    builder: Callable[..., Any]


_REGISTRY: Dict[str, RegistryEntry] = {}


def register(config: ModelConfig, builder: Callable[..., Any]) -> ModelConfig:
    """Add one model. A duplicate name is a programming error and raises."""
    if config.name in _REGISTRY:
        raise ValueError(f"model name {config.name!r} is already registered")
    if config.kind not in ("classical", "learned"):
        raise ValueError(f"{config.name}: kind must be 'classical' or 'learned'")
    if config.prefill not in ("zeros", "ns"):
        raise ValueError(f"{config.name}: prefill must be 'zeros' or 'ns'")
    if config.fixed_size and not config.native_size:
        raise ValueError(f"{config.name}: a fixed-size model needs native_size")
    _REGISTRY[config.name] = RegistryEntry(config, builder)
    return config


def register_model(config: ModelConfig) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator form of `register`, timm style: `@register_model(ModelConfig(...))`."""

    def wrap(builder: Callable[..., Any]) -> Callable[..., Any]:
        register(config, builder)
        return builder

    return wrap


def get_entry(name: str) -> RegistryEntry:
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        close = [n for n in _REGISTRY if n.split(".")[0] == name.split(".")[0]]
        hint = f"; variants of that family: {', '.join(sorted(close))}" if close else ""
        raise UnknownModelError(
            f"unknown model {name!r}{hint}. Run `python -m hub list` for the full list."
        ) from None


def get_config(name: str) -> ModelConfig:
    return get_entry(name).config


def list_models(
    family: Optional[str] = None,
    kind: Optional[str] = None,
    include_test_only: bool = False,
) -> List[str]:
    """Registered names, sorted; tiny test variants only when asked for."""
    _ensure_loaded()
    names = []
    for name, entry in _REGISTRY.items():
        cfg = entry.config
        if cfg.test_only and not include_test_only:
            continue
        if family is not None and cfg.family != family:
            continue
        if kind is not None and cfg.kind != kind:
            continue
        names.append(name)
    return sorted(names)


_LOADED = False


def _ensure_loaded() -> None:
    """Import the model zoo once, so that its modules register themselves."""
    global _LOADED
    if not _LOADED:
        _LOADED = True
        import importlib

        importlib.import_module("hub.models")
        importlib.import_module("hub.pretrained")
