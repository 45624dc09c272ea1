"""Building blocks shared by the model families (torch only; no model imports them back)."""
from .attention import AugmentedChannelAttention, FusingSpatialAttention, MaskedNonLocal
from .blocks import ConvAct, UpConvAct, make_act, mask_channels, same_padding
from .contextual_attention import contextual_attention, offsets_to_rgb, propagate

__all__ = [
    "AugmentedChannelAttention", "FusingSpatialAttention", "MaskedNonLocal", "ConvAct", "UpConvAct",
    "make_act", "mask_channels", "same_padding", "contextual_attention", "offsets_to_rgb", "propagate",
]
