from .stgcn_arch import STGCNChebGraphConv as STGCN

__all__ = ["STGCN"]
