"""Sharing architectures: how tasks share parameters. One file per architecture, one registry line each.

To add one: write ``models/sharing/NAME.py`` with a ``SharingModel`` subclass (``description``, ``from_parts``,
``forward``, ``shared_parameters``, optionally ``extra_loss``) and add it to ``SHARING`` below.
"""
from mtl_core.models.sharing.base import ModelParts, SharingModel, module_key, owned_by
from mtl_core.models.sharing.cascade import CascadeModel
from mtl_core.models.sharing.cross_stitch import CrossStitchModel
from mtl_core.models.sharing.hard import HardSharingModel
from mtl_core.models.sharing.shared_private import SharedPrivateModel

SHARING: dict[str, type[SharingModel]] = {
    "hard": HardSharingModel,
    "cascade": CascadeModel,
    "cross_stitch": CrossStitchModel,
    "shared_private": SharedPrivateModel,
}

__all__ = ["SHARING", "ModelParts", "SharingModel", "HardSharingModel", "CascadeModel", "CrossStitchModel",
           "SharedPrivateModel", "module_key", "owned_by"]
