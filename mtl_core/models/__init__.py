"""Models: embedders and encoders (backbones), task heads, and how tasks share them (sharing architectures)."""
from .build import build_model, parameter_groups
from .sharing import SHARING, HardSharingModel

__all__ = ["build_model", "parameter_groups", "SHARING", "HardSharingModel"]
