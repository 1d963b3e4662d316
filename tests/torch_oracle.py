"""PyTorch as an optional oracle: tests that need it are marked `needs_torch`."""
import pytest

try:
    import torch
except ImportError:  # torch is an optional extra: pip install -e ".[torch]"
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install -e '.[torch]')")
