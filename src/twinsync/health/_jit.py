"""The health kernels' compiler: ``twinsync.jit.compiled``."""

from ..jit import compiled, compiled_inline

__all__ = ["compiled", "compiled_inline"]
