"""OptimLab: the helper library of the course on losses, regularization and optimization.

- `optimlab.data`: CIFAR-10 (download, load, split) and the bundled sample.
- `optimlab.mode`: the fast/full switch that heavy notebook cells read.
- `optimlab.checks`: the visible self-checks of the notebooks.
- `optimlab.validation`: what the Validate button reports (failing self-checks, answers still to fill).
- `optimlab.plots`: the figures the notebooks draw.
- `optimlab.train`: the minibatch training loop (any model, update rule and schedule).
- `optimlab.landscapes`: 2-D test functions and trajectory plots for the optimizers.
- `optimlab.layers`: forward/backward layers (affine, ReLU, softmax loss) of the capstone network.
- `optimlab.models`: the two-layer ReLU network of 05_dropout as a training-loop model.
- `optimlab.gpu`: finds CuPy and a device for the optional GPU cell, and times a run on several backends.
"""

__version__ = "0.1.0"
