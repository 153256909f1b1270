"""The health kernels' compiler: ``twinsync.jit.compiled``."""

from ..jit import compiled

__all__ = ["compiled"]
