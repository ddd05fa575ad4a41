"""A frozen pretrained encoder run by ONNX Runtime on the CPU: the same states as PyTorch, sooner.

Measured on 2 CPU cores, MiniLM's states for 600 ABSA sentences (``bench/first_result.py``, RESULTS.md "Speed"):
518 sentences/s against PyTorch's 295 (fp32 both; its graph fuses attention, GELU and LayerNorm), states equal
to within the bfloat16 rounding the state cache stores anyway (bf16 or int8 in PyTorch: no faster, or other states). The encoder is exported once per
weights (``torch.onnx.export``, a few seconds) into its state cache folder, under a temporary name then renamed;
each process opens one session per exported file. Anything that goes wrong (ONNX Runtime not installed, an
encoder that does not export) leaves the frozen encoder in PyTorch, with a warning.
"""
from __future__ import annotations

import logging
import os
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)

ONNX_FILE = "encoder.onnx"
OPSET = 17
_SESSIONS: dict[tuple, object] = {}


class HiddenStates(nn.Module):
    """What is exported: (input ids, attention mask) (B, P) -> every layer's states, embeddings first."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states


def export(encoder: nn.Module, path: Path) -> None:
    """``encoder`` (a Hugging Face model on the CPU, fp32) as an ONNX file at ``path``, written atomically."""
    layers = encoder.config.num_hidden_layers + 1
    outputs = [f"layer{k}" for k in range(layers)]
    axes = {name: {0: "batch", 1: "pieces"} for name in ["input_ids", "attention_mask", *outputs]}
    example = (torch.ones(2, 8, dtype=torch.long), torch.ones(2, 8, dtype=torch.long))
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on Python control flow it froze
            torch.onnx.export(HiddenStates(encoder).eval(), example, str(temp), input_names=["input_ids", "attention_mask"],
                              output_names=outputs, dynamic_axes=axes, opset_version=OPSET, dynamo=False)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def session(path: Path, threads: int):
    """One ONNX Runtime session per file and thread count in this process."""
    import onnxruntime as ort

    key = (str(path), path.stat().st_mtime_ns, threads)
    if key not in _SESSIONS:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting on shared cores
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        _SESSIONS[key] = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return _SESSIONS[key]


class OnnxEncoder:
    """``(pieces, attention) (B, P) -> every layer's states``, as the Hugging Face encoder's ``hidden_states``."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def open(cls, load: Callable[[], nn.Module], folder: Path) -> OnnxEncoder | None:
        """The encoder exported into ``folder`` (once; ``load()`` gives the PyTorch encoder, called only to export
        it) and ready to run; None, with a warning, if it cannot be."""
        try:
            import onnx  # noqa: F401  (torch's exporter writes through it)
            import onnxruntime  # noqa: F401
        except ImportError:
            log.warning("onnxruntime or onnx is not installed: the frozen encoder runs in PyTorch (slower). "
                        "Run: pip install -r requirements.txt")
            return None
        path, error = folder / ONNX_FILE, None
        for _ in range(2):  # a file that will not open is exported again, once
            try:
                if not path.is_file():
                    export(load(), path)
                session(path, torch.get_num_threads())
                return cls(path)
            except Exception as exc:  # noqa: BLE001  (whatever the exporter or runtime refuses, PyTorch still runs)
                path.unlink(missing_ok=True)
                error = exc
        log.warning("The frozen encoder runs in PyTorch (slower): ONNX Runtime cannot run it (%s: %s)",
                    type(error).__name__, error)
        return None

    def __call__(self, pieces: torch.Tensor, attention: torch.Tensor) -> tuple[torch.Tensor, ...]:
        feeds = {"input_ids": pieces.cpu().numpy(), "attention_mask": attention.long().cpu().numpy()}
        return tuple(torch.from_numpy(x) for x in session(self.path, torch.get_num_threads()).run(None, feeds))
