"""Models: embedders and encoders (backbones), task heads, how tasks share them (``sharing``), and the
pretrained encoders' weights (``pretrained``). Import from the modules: this package itself loads nothing,
so ``models.pretrained`` stays free of torch."""
