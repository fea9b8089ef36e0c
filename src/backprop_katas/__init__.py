"""backprop-katas: test-driven katas that teach error backpropagation with PyTorch."""

__version__ = "0.1.0"
