"""The model zoo: one module per family; importing this package registers them all."""
from . import classical, context_encoder, deepfill, ga_context_encoder, glcic, lgnet, msanet  # noqa: F401
