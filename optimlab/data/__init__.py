"""CIFAR-10 for the course: the real data when downloaded, else a bundled sample.

    from optimlab.data import get_cifar10_data
    data = get_cifar10_data()          # dict of splits, mean image, is_sample

Get the real data once with ``optimlab-data download`` (see ``data/README.md``).
"""

from .cifar10 import CLASSES, DataError, find_cifar10_dir, get_cifar10_data, load_cifar10

__all__ = ["CLASSES", "DataError", "find_cifar10_dir", "get_cifar10_data", "load_cifar10"]
