"""backprop-katas: test-driven katas that teach error backpropagation with PyTorch."""

from typing import Any

__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext backprop_katas``: the ``%kata`` magics (IPython is imported only here)."""
    from backprop_katas.tool.notebook import load_ipython_extension as load

    load(ipython)
