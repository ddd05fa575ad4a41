"""RunConfig: every knob of one training run, stored with each result. Unknown keys fail loudly."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from mtl_core.errors import ConfigError

HEADS = ("pooled", "attention")
SAMPLING = ("proportional", "temperature", "round_robin")
SELECTION = ("metric", "pooled", "loss")
DEVICES = ("auto", "cpu", "cuda", "mps")


@dataclass
class RunConfig:
    # model
    emb_dim: int = 100
    hidden: int = 128           # per direction of the BiLSTM
    layers: int = 1
    dropout: float = 0.5        # small data: strong dropout on embeddings and pooled features
    word_dropout: float = 0.0   # share of training tokens replaced by <oov>, so the OOV vector is learned
    head: str = "pooled"        # sentence heads: "pooled" (mean+max) or "attention" (one query per task)
    use_vectors: bool = True    # initialise embeddings from an installed spaCy pipeline's vectors, if any
    char_dim: int = 0           # > 0: a character CNN (this many dims per character) adds spelling to each word
    backbone: str = "bilstm"    # models.backbones.BACKBONES: bilstm | cnn | transformer | minilm | mpnet (pretrained)
    tune_pretrained: bool = False  # minilm / mpnet: fine-tune it (True) or keep it frozen, its states cached (False)
    pretrained_lr: float = 5e-5    # learning rate of a fine-tuned pretrained encoder (the rest uses lr)
    pretrained_layers: int = 1     # minilm / mpnet: each word's state is the mean of the top N layers (1: the last only)
    sharing: str = "hard"       # models.sharing.SHARING: hard | cascade | cross_stitch | shared_private
    cascade_order: list = field(default_factory=list)  # cascade: tasks from the lowest level up (others on top)
    reversal_scale: float = 1.0  # gradient-reversal strength for adversarial (domain) heads
    ortho_weight: float = 0.1   # shared_private: weight of the shared/private orthogonality penalty (in [0, 1])
    aux: list = field(default_factory=list)  # automatic auxiliary tasks (mtl_core.auxiliary.AUXILIARY)
    missing_word_rate: float = 0.15  # aux "missing_word": share of tokens hidden (and predicted) per batch
    # data
    min_freq: int = 1
    max_len: int = 120          # tokens kept per text
    language: str = "en"        # spaCy blank pipeline language for tokenization
    # optimisation
    lr: float = 2e-3
    lr_schedule: str = "constant"  # mtl_core.training.schedules.SCHEDULES: constant | linear (warmup, then decay to zero)
    warmup: float = 0.1            # linear schedule: share of the run's steps spent warming up
    weight_decay: float = 1e-4
    batch_size: int = 32
    epochs: int = 15
    patience: int = 4           # epochs without validation improvement before stopping
    selection: str = "metric"   # early stopping / model selection on the validation split: each task's lead
                                # metric (mean over tasks), "pooled" (weighted by validation labels), or "loss"
    clip: float = 1.0
    class_weights: bool = False
    sampling: str = "proportional"  # proportional | temperature (task share ~ size**sampling_alpha) | round_robin
    sampling_alpha: float = 0.5
    weighting: str = "equal"    # mtl_core.training.weighting.REGISTRY: loss weighting or gradient combination
    task_weights: dict = field(default_factory=dict)  # "manual" weighting: task -> weight (default 1.0)
    weighting_options: dict = field(default_factory=dict)  # the weighting method's options, e.g. dwa
                                # {"temperature": 1.0}; each method declares its own (weighting.options_of)
    device: str = "auto"
    amp: bool = True            # bfloat16 autocast on CUDA only
    grad_every: int = 0         # measure gradient interference between tasks every N optimizer steps (0: off)
    affinity_every: int = 0     # measure lookahead task affinity every N optimizer steps (0: off)

    def __post_init__(self) -> None:
        for name, allowed in (("head", HEADS), ("sampling", SAMPLING), ("selection", SELECTION),
                               ("device", DEVICES)):
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(f"The '{name}' option must be one of {set(allowed)}. Got {value!r} instead.")
        self._check_registries()
        if not 0 <= self.warmup < 1:
            raise ConfigError(f"The 'warmup' option must be in [0, 1). Got {self.warmup!r} instead.")
        for name in ("emb_dim", "hidden", "layers", "batch_size", "epochs", "max_len", "min_freq",
                     "pretrained_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"The '{name}' option must be at least 1. Got {getattr(self, name)!r} instead.")
        for name in ("grad_every", "affinity_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"The '{name}' option must be a whole number >= 0 (0: off). Got {value!r} instead.")
        for name in ("dropout", "word_dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"The '{name}' option must be in [0, 1). Got {getattr(self, name)!r} instead.")

    def _check_registries(self) -> None:
        from mtl_core.models.backbones import (
            BACKBONES,  # imported here: models import this module
        )
        from mtl_core.models.sharing import SHARING
        from mtl_core.training.schedules import SCHEDULES
        for name, allowed in (("backbone", BACKBONES), ("sharing", SHARING), ("lr_schedule", SCHEDULES)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"The '{name}' option must be one of {set(allowed)}. "
                                  f"Got {getattr(self, name)!r} instead.")
        from mtl_core.training.weighting import REGISTRY, check_options
        if self.weighting not in REGISTRY:
            raise ConfigError(f"The 'weighting' option must be one of {set(REGISTRY)}. Got {self.weighting!r} instead.")
        self.weighting_options = check_options(self.weighting, self.weighting_options)
        self._check_next_token_tasks()
        if not 0 < self.sampling_alpha <= 1:
            raise ConfigError(f"The 'sampling_alpha' option must be in (0, 1]. Got {self.sampling_alpha!r} instead.")

    @property
    def next_token_aux(self) -> list[str]:
        """The run's auxiliary tasks that predict the next token (their heads must read leak-free states)."""
        if not self.aux:
            return []
        from mtl_core.auxiliary import (
            PREDICTS_NEXT,  # imported here: it loads word-list packages most runs never need
        )
        return [name for name in self.aux if name in PREDICTS_NEXT]

    def _check_next_token_tasks(self) -> None:
        """A next-token auxiliary task needs state dimensions that have not read the token it predicts: the
        forward half of a one-layer BiLSTM over word vectors. Elsewhere its answer would be in its input."""
        chosen = self.next_token_aux
        if chosen and (self.backbone != "bilstm" or self.layers != 1):
            encoder = (f"backbone {self.backbone!r}" if self.backbone != "bilstm"
                       else f"a {self.layers}-layer BiLSTM")
            raise ConfigError(
                f"The auxiliary task(s) {chosen} predict the next token, but with {encoder} every token state has "
                "already read the token after it, so the task would be copied, not learned. Fix: use backbone "
                "'bilstm' with 1 layer (any sharing), or pick 'missing_word' as the auxiliary task instead.")

    @classmethod
    def from_dict(cls, values: dict) -> "RunConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"Unknown config key(s): {unknown}. Known keys: {sorted(known)}.")
        return cls(**values)

    def to_dict(self) -> dict:
        return asdict(self)

    def replace(self, **changes) -> "RunConfig":
        return RunConfig.from_dict({**self.to_dict(), **changes})
