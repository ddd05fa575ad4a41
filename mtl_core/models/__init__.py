"""Models: backbones, task heads, and how tasks share them."""
from .build import build_model
from .multitask import HardSharingModel

__all__ = ["build_model", "HardSharingModel"]
