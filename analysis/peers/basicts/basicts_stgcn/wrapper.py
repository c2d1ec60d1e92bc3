"""Adapter that runs BasicTS 0.4.3.2's STGCN architecture (vendored, unchanged, in this
folder) inside the BasicTS 1.1.0 runner from PyPI.

BasicTS 1.1.0 (the only version on PyPI) no longer ships STGCN; its runner builds a model
as `model_cls(model_config)` and calls `model(inputs)` with inputs [batch, 12, sensors]
and expects [batch, 12, sensors] back. The 0.4.3.2 architecture takes
history_data [batch, 12, sensors, 1] and returns [batch, 12, sensors, 1].
"""

from dataclasses import dataclass, field

import torch
from torch import nn

from basicts.configs import BasicTSModelConfig

from .stgcn_arch import STGCNChebGraphConv


@dataclass
class STGCNConfig(BasicTSModelConfig):
    """BasicTS baselines/STGCN/METR-LA.py hyper-parameters (0.4.3.2)."""

    Ks: int = field(default=3)
    Kt: int = field(default=3)
    blocks: list = field(default_factory=lambda: [[1], [64, 16, 64], [64, 16, 64], [128, 128], [12]])
    T: int = field(default=12)
    n_vertex: int = field(default=207)
    act_func: str = field(default="glu")
    graph_conv_type: str = field(default="cheb_graph_conv")
    gso: list = field(default=None)  # graph shift operator, n_vertex x n_vertex (nested list)
    bias: bool = field(default=True)
    droprate: float = field(default=0.5)


class STGCN(nn.Module):
    """BasicTS 0.4.3.2 STGCN (Chebyshev graph convolution) behind BasicTS 1.1.0's interface."""

    def __init__(self, config: STGCNConfig):
        super().__init__()
        gso = torch.as_tensor(config.gso, dtype=torch.float32)
        self.arch = STGCNChebGraphConv(
            Kt=config.Kt, Ks=config.Ks, blocks=config.blocks, T=config.T,
            n_vertex=config.n_vertex, act_func=config.act_func,
            graph_conv_type=config.graph_conv_type, gso=gso, bias=config.bias,
            droprate=config.droprate)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        out = self.arch(inputs.unsqueeze(-1), None, 0, 0, self.training)
        return out.squeeze(-1)
