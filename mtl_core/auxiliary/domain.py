"""domain: predict which source a row came from, through a gradient-reversal layer (adversarial)."""
from __future__ import annotations

from mtl_core.auxiliary.base import AuxiliaryData, AuxiliaryTask
from mtl_core.tasks import CLASSIFICATION, TaskSpec


class Domain(AuxiliaryTask):
    name = "domain"
    kind = CLASSIFICATION
    adversarial = True
    description = ("Each sentence predicts its domain (the dataset or source it came from) through a "
                   "gradient-reversal layer, so the shared features learn to NOT tell domains apart.")

    def build(self, data: AuxiliaryData) -> tuple[TaskSpec, list]:
        domains = data.domains
        if domains is not None and len(domains) != len(data.tokens):
            raise ValueError(f"The 'domains' list must have one entry per row ({len(data.tokens)}). "
                             f"Got {len(domains)} instead.")
        # the label set comes from the training rows; a domain seen only outside them is absent
        labels = sorted({domains[i] for i in data.train_rows if domains[i] is not None}) if domains else []
        if len(labels) < 2:
            raise ValueError("The 'domain' auxiliary task needs rows from at least two domains (e.g. two "
                             f"datasets) among the training rows. Got {labels or 'none'} instead.")
        known = set(labels)
        return self.spec(labels), [d if d in known else None for d in domains]
