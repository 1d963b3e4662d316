"""Item 2: one epoch of the capstone network with the library against the same network in PyTorch.

Ours: `optimlab.models.two_layer_net` trained by `optimlab.train.train` with
the reference AdamW (assignment 3), cosine-with-warmup schedule and dropout
(assignment 5), taken from the master notebooks. The configuration is the 05
capstone's: 512 hidden units, batch 250, AdamW lr 2e-3 and weight decay 0.05,
warmup over half an epoch then cosine decay to 0, dropout p = 0.2, float32,
He initialization, pixels divided by the training set's standard deviation.

Peer: the same network (Linear-ReLU-Dropout-Linear, the same initial
weights), `torch.optim.AdamW` with the same hyperparameters, the same
schedule and minibatch size, on the same arrays, with the same thread count
for NumPy's BLAS and PyTorch. Both evaluate once at the end of the epoch, as
`train` does; the test accuracy of the last repetition is reported (the
10,000 test images when the real CIFAR-10 is present).
"""
from __future__ import annotations

import math
import time

import numpy as np

from autograder.reference import load_reference
from benchmarks.report import Row, speed_row
from benchmarks.threads import thread_count
from benchmarks.timing import interleaved
from optimlab.data import get_cifar10_data
from optimlab.models import two_layer_net
from optimlab.train import accuracy, train

HIDDEN, BATCH, LR, WEIGHT_DECAY, P_DROP = 512, 250, 2e-3, 0.05, 0.2  # the 05 capstone's
NUM_TRAIN = 49_000
GOAL_SPEED = 1 / 1.25     # torch's time over ours: within 1.25x of torch
GOAL_POINTS = 1.0         # test accuracy within one point of torch's


def capstone_data(quick: bool) -> dict:
    """The capstone's arrays: X_* (N, 3072) float32 scaled by the training pixels' std, y_* (N,) int64.

    Full: 49,000 training images (the real CIFAR-10; without it, sample
    images drawn with replacement up to that size), 1,000 validation and
    10,000 test images. Quick: the sample data as it is.
    """
    data = get_cifar10_data(num_test=10_000, dtype=np.float32, bias_trick=False, use_sample=quick)
    if data["is_sample"] and not quick:  # same shape as the real training set
        rows = np.random.default_rng(0).integers(0, data["X_train"].shape[0], NUM_TRAIN)
        data["X_train"], data["y_train"] = data["X_train"][rows], data["y_train"][rows]
    pixel_std = data["X_train"].std()
    for split in ("train", "val", "test"):
        data["X_" + split] /= pixel_std  # in place: no second copy of the training set
    return data


def epoch_iterations(data: dict) -> int:
    return max(data["X_train"].shape[0] // BATCH, 1)


def capstone_schedule(iters: int):
    """`schedule(t) -> learning rate` of both contenders: warmup over half of `iters`, then cosine decay to 0."""
    cosine_with_warmup = load_reference("05_dropout").cosine_with_warmup
    warmup = max(iters // 2, 1)
    return lambda t: cosine_with_warmup(t, LR, warmup, iters)


class Library:
    """One epoch of the library's network; `run()` trains a fresh one, `test_accuracy()` scores the last."""

    def __init__(self, data: dict, iters: int):
        self.data, self.iters = data, iters
        self.adamw = load_reference("03_optimizers").adamw
        dropout = load_reference("05_dropout")
        self.dropout = (dropout.dropout_forward, dropout.dropout_backward)
        self.schedule = capstone_schedule(iters)
        self.train_split = {k: data[k] for k in ("X_train", "y_train", "X_val", "y_val")}

    def initial(self):
        """(model, params): the network with its He-initialized float32 weights."""
        return two_layer_net(self.data["X_train"].shape[1], HIDDEN, 10, weight_scale="he", dropout=self.dropout,
                             p=P_DROP, rng=np.random.default_rng(0), dtype=np.float32)

    def run(self) -> None:
        self.model, self.params = self.initial()
        self.history = train(self.model, self.params, self.train_split, update_rule=self.adamw,
                             config={"learning_rate": LR, "weight_decay": WEIGHT_DECAY},
                             schedule=self.schedule, num_iters=self.iters,
                             batch_size=BATCH, rng=np.random.default_rng(1), progress=False,
                             eval_every=self.iters)

    def test_accuracy(self) -> float:
        return accuracy(self.model, self.params, self.data["X_test"], self.data["y_test"])


class Torch:
    """The same epoch in PyTorch, starting from the library's initial weights."""

    def __init__(self, data: dict, iters: int, initial_params: dict):
        import torch

        self.torch, self.iters, self.initial = torch, iters, initial_params
        self.schedule = capstone_schedule(iters)
        # Shared with NumPy, not copied.
        self.X, self.y = torch.from_numpy(data["X_train"]), torch.from_numpy(data["y_train"])
        self.X_val, self.y_val = torch.from_numpy(data["X_val"]), torch.from_numpy(data["y_val"])
        self.X_test, self.y_test = torch.from_numpy(data["X_test"]), torch.from_numpy(data["y_test"])

    def network(self):
        """Linear(D, H) - ReLU - Dropout(p) - Linear(H, 10) holding the library's initial weights."""
        nn = self.torch.nn
        D, H = self.initial["W1"].shape
        net = nn.Sequential(nn.Linear(D, H), nn.ReLU(), nn.Dropout(P_DROP), nn.Linear(H, 10))
        with self.torch.no_grad():  # Linear holds its weight as (out, in): the transpose of ours
            for layer, w, b in ((net[0], "W1", "b1"), (net[3], "W2", "b2")):
                layer.weight.copy_(self.torch.from_numpy(self.initial[w].T))
                layer.bias.copy_(self.torch.from_numpy(self.initial[b]))
        return net

    def run(self) -> None:
        torch, F = self.torch, self.torch.nn.functional
        self.net = net = self.network()
        optimizer = torch.optim.AdamW(net.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8,
                                      weight_decay=WEIGHT_DECAY)
        rng = np.random.default_rng(1)
        self.loss = []
        net.train()
        for t in range(self.iters):
            rows = torch.from_numpy(rng.integers(0, self.X.shape[0], BATCH))
            for group in optimizer.param_groups:
                group["lr"] = self.schedule(t)
            loss = F.cross_entropy(net(self.X[rows]), self.y[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            self.loss.append(loss.item())  # as `train` records every loss
        eval_rows = torch.from_numpy(rng.choice(self.X.shape[0], min(1000, self.X.shape[0]), replace=False))
        self.val_accuracy = self._accuracy(self.X_val, self.y_val)
        self._accuracy(self.X[eval_rows], self.y[eval_rows])  # train evaluates a training subset too

    def _accuracy(self, X, y) -> float:
        self.net.eval()
        with self.torch.no_grad():
            return float((self.net(X).argmax(dim=1) == y).double().mean())

    def test_accuracy(self) -> float:
        return self._accuracy(self.X_test, self.y_test)


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _alone(ours: Library, name: str, threads: int) -> Row:
    """The row when torch is not installed: our time, no peer."""
    start = time.perf_counter()
    with thread_count(threads):
        ours.run()
    return Row("training", name, time.perf_counter() - start, "PyTorch", math.nan, "within 1.25x", None,
               note="skipped: torch not installed")


def accuracy_row(ours: float, theirs: float, peer: str, images: int, judged: bool, sample: bool) -> Row:
    """Test accuracy after the epoch against torch's; met within one point."""
    row = Row("training", f"test accuracy after that epoch ({images:,} images)", ours, peer, theirs,
              "within 1 point", None, unit="accuracy", reps=1, note="sample data" if sample else "")
    if judged:
        row.met = bool(100 * (ours - theirs) >= -GOAL_POINTS)
    return row


def run(quick: bool, reps: int | None, threads: int) -> tuple[list[Row], dict]:
    """Rows: seconds per epoch against torch's, and test accuracy against torch's."""
    reps = reps or (2 if quick else 3)
    data = capstone_data(quick)
    iters = epoch_iterations(data)
    judged = not quick and not data["is_sample"]
    name = f"capstone epoch, {data['X_train'].shape[0]:,} x {data['X_train'].shape[1]} float32, {iters} steps"
    details = {"iterations": iters, "batch": BATCH, "hidden": HIDDEN, "threads": threads,
               "train_shape": list(data["X_train"].shape), "sample_data": data["is_sample"],
               "test_images": int(data["X_test"].shape[0])}
    ours = Library(data, iters)
    if not torch_available():
        return [_alone(ours, name, threads)], details
    import torch

    peer = Torch(data, iters, ours.initial()[1])
    with thread_count(threads):
        # A warm-up epoch at full size would double the run; at quick sizes it keeps start-up costs out.
        times = interleaved({"ours": ours.run, "torch": peer.run}, reps, warmup=quick)
        ours_acc, torch_acc = ours.test_accuracy(), peer.test_accuracy()
    details.update(torch=torch.__version__, accuracy={"ours": ours_acc, "torch": torch_acc},
                   val_accuracy={"ours": ours.history.val_acc[-1], "torch": peer.val_accuracy},
                   final_loss={"ours": ours.history.loss[-1], "torch": peer.loss[-1]})
    peer_name = f"PyTorch {torch.__version__}"
    rows = [speed_row("training", name, times["ours"], peer_name, times["torch"], GOAL_SPEED,
                      "within 1.25x (>= 0.80x)", judged=judged),
            accuracy_row(ours_acc, torch_acc, peer_name, int(data["X_test"].shape[0]), judged, data["is_sample"])]
    return rows, details
