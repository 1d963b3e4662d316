"""Hidden tests of 01_losses: cases and known mistakes of every graded function.

The references are the master notebook's (`solutions/01_losses/losses.ipynb`).
The variants below are the mistakes students make, written the way a student
would write them; a failed case whose output matches one is diagnosed with its
message.
"""
from __future__ import annotations

import numpy as np

from autograder.spec import Case, Check, Mistake, answer_case, look_up_answer

ASSIGNMENT = "01_losses"

LECTURE_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
LECTURE_Y = np.array([0, 1, 2])


def random_scores(n: int, c: int, scale: float = 1.0):
    """A case maker: scores (n, c) ~ scale * N(0, 1) and labels uniform in [0, c)."""
    def make(rng):
        return scale * rng.standard_normal((n, c)), rng.integers(0, c, size=n)
    return make


def random_array(*shape: int):
    def make(rng):
        return (rng.standard_normal(shape),)
    return make


# Cases shared by the four losses: the lecture's example, random shapes, and the edges.
LOSS_CASES = (
    Case("lecture cat/car/frog scores", lambda rng: (LECTURE_SCORES.copy(), LECTURE_Y.copy())),
    Case("random scores, N=8, C=10", random_scores(8, 10)),
    Case("random scores, N=5, C=4", random_scores(5, 4, scale=3.0)),
    Case("two classes (C=2), N=6", random_scores(6, 2)),
    Case("a single example (N=1), C=5", lambda rng: (lambda s: (s, np.argmin(s, axis=1)))(rng.standard_normal((1, 5)))),
    Case("scores of magnitude 1e3, N=4, C=6", random_scores(4, 6, scale=1e3)),
)


# --- SVM mistakes ------------------------------------------------------------------

def svm_includes_correct_class(scores, y):
    margins = np.maximum(0, scores - scores[np.arange(len(y)), y][:, None] + 1)
    return float(margins.sum() / len(y))


def svm_sum_not_mean(scores, y):
    margins = np.maximum(0, scores - scores[np.arange(len(y)), y][:, None] + 1)
    margins[np.arange(len(y)), y] = 0
    return float(margins.sum())


def svm_no_margin(scores, y):
    margins = np.maximum(0, scores - scores[np.arange(len(y)), y][:, None])
    return float(margins.sum() / len(y))


def svm_no_clamp(scores, y):
    margins = scores - scores[np.arange(len(y)), y][:, None] + 1
    margins[np.arange(len(y)), y] = 0
    return float(margins.sum() / len(y))


def svm_reversed_difference(scores, y):
    margins = np.maximum(0, scores[np.arange(len(y)), y][:, None] - scores + 1)
    margins[np.arange(len(y)), y] = 0
    return float(margins.sum() / len(y))


SVM_MISTAKES = (
    Mistake("the sum includes j = y_i, which adds a margin of 1 per example: skip the correct class.",
            variant=svm_includes_correct_class),
    Mistake("the losses are summed over the examples instead of averaged: divide by N.",
            variant=svm_sum_not_mean),
    Mistake("the margin of 1 is missing: use max(0, s_j - s_yi + 1).", variant=svm_no_margin),
    Mistake("negative margins are added: clamp each term with max(0, .).", variant=svm_no_clamp),
    Mistake("the difference is reversed: it is s_j - s_yi (a wrong class's score minus the correct one's).",
            variant=svm_reversed_difference),
)


# --- softmax mistakes --------------------------------------------------------------

def softmax_sum_not_mean(scores, y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(y)), y].sum())


def softmax_log10(scores, y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return float(-np.log10(probs[np.arange(len(y)), y]).mean())


def softmax_no_minus(scores, y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(log_probs[np.arange(len(y)), y].mean())


def softmax_normalized_over_examples(scores, y):
    shifted = scores - scores.max(axis=0, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    return float(-log_probs[np.arange(len(y)), y].mean())


def _not_finite(record: dict) -> bool:
    """The output came back as NaN or infinity (softmax overflow)."""
    out = record.get("output")
    return isinstance(out, dict) and out.get("float") in ("nan", "inf", "-inf")


SOFTMAX_MISTAKES = (
    Mistake("the softmax overflows for large scores (the result is not finite): subtract each row's "
            "maximum score before exponentiating; it does not change the probabilities.", when=_not_finite),
    Mistake("the losses are summed over the examples instead of averaged: divide by N.",
            variant=softmax_sum_not_mean),
    Mistake("log10 is used: the cross-entropy uses the natural logarithm (np.log).", variant=softmax_log10),
    Mistake("the sign is wrong: the loss is MINUS the log-probability of the correct class.",
            variant=softmax_no_minus),
    Mistake("the softmax is normalized over the examples (axis 0) instead of over the classes (axis 1).",
            variant=softmax_normalized_over_examples),
)


# --- regularizer mistakes ----------------------------------------------------------

def l2_with_half(W):
    return float(0.5 * np.sum(W * W)), W


def l2_gradient_without_2(W):
    return float(np.sum(W * W)), W


def l2_square_of_sum(W):
    return float(np.sum(W) ** 2), 2 * W


def l1_gradient_w(W):
    return float(np.sum(np.abs(W))), W


def l1_gradient_abs(W):
    return float(np.sum(np.abs(W))), np.abs(W)


def elastic_beta_on_l1(W, beta):
    return float(np.sum(W * W + beta * np.abs(W))), 2 * W + beta * np.sign(W)


def elastic_gradient_without_2(W, beta):
    return float(np.sum(beta * W * W + np.abs(W))), beta * W + np.sign(W)


def elastic_missing_l1_gradient(W, beta):
    return float(np.sum(beta * W * W + np.abs(W))), 2 * beta * W


REG_CASES = (
    Case("W of shape (3073, 10) * 1e-3", lambda rng: (1e-3 * rng.standard_normal((3073, 10)),)),
    Case("W of shape (4, 3)", random_array(4, 3)),
    Case("W with exact zeros, shape (5, 2)", lambda rng: (rng.integers(-2, 3, size=(5, 2)).astype(float),)),
    Case("W of shape (1, 1)", random_array(1, 1)),
)


def with_beta(beta: float, base: Case) -> Case:
    return Case(f"{base.name}, beta={beta}", lambda rng: (*base.make(rng), beta))


ELASTIC_CASES = tuple(with_beta(beta, case) for beta, case in zip((0.5, 2.0, 0.1, 1.0), REG_CASES))


# --- ridge regression --------------------------------------------------------------

def ridge_bias_unpenalized(X, y, lam):
    penalty = lam * np.eye(X.shape[1])
    penalty[-1, -1] = 0.0
    return np.linalg.solve(X.T @ X + penalty, X.T @ y)


def ridge_mean_squared(X, y, lam):
    n, d = X.shape
    return np.linalg.solve(X.T @ X / n + lam * np.eye(d), X.T @ y / n)


def ridge_ignores_lambda(X, y, lam):
    return np.linalg.lstsq(X, y, rcond=None)[0]


def regression_case(n: int, d: int, lam: float):
    def make(rng):
        X = np.column_stack([rng.standard_normal((n, d - 1)), np.ones(n)])
        return X, X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n), lam
    return make


def lecture_cities(lam: float):
    def make(rng):
        X = np.array([[42.0, 1.0], [39.0, 1.0], [30.0, 1.0]])
        return X, np.array([33.0, 38.0, 62.0]), lam
    return make


RIDGE_CASES = (
    Case("lecture cities, lam=0", lecture_cities(0.0)),
    Case("lecture cities, lam=0.02", lecture_cities(0.02)),
    Case("N=30, D=5, lam=1", regression_case(30, 5, 1.0)),
    Case("N=10, D=20 (more weights than examples), lam=0.5", regression_case(10, 20, 0.5)),
    Case("N=50, D=3, lam=100", regression_case(50, 3, 100.0)),
)

RIDGE_MISTAKES = (
    Mistake("the bias weight is not penalized; in this course the penalty covers every weight, "
            "bias included: (X^T X + lam I) w = X^T y.", variant=ridge_bias_unpenalized),
    Mistake("the data term is averaged (mean squared error), which scales lam by N: minimize the SUM of "
            "squares plus lam ||w||^2.", variant=ridge_mean_squared),
    Mistake("lam has no effect: add lam times the identity to X^T X.", variant=ridge_ignores_lambda),
)


# --- autograded facts --------------------------------------------------------------

FACT_KEYS = ("svm_min", "svm_max", "softmax_min", "softmax_max", "svm_at_init", "softmax_at_init",
             "w_unique_when_zero_loss")


CHECKS = [
    Check("svm_loss_naive", LOSS_CASES, mistakes=SVM_MISTAKES),
    Check("svm_loss", LOSS_CASES, mistakes=SVM_MISTAKES),
    Check("softmax_loss_naive", LOSS_CASES, mistakes=SOFTMAX_MISTAKES),
    Check("softmax_loss", LOSS_CASES, mistakes=SOFTMAX_MISTAKES),
    Check("l2_reg", REG_CASES, mistakes=(
        Mistake("R(W) has a factor 1/2; in this course R(W) = sum(W**2), so dR = 2W.", variant=l2_with_half),
        Mistake("the gradient misses the factor 2: d/dW sum(W**2) = 2W.", variant=l2_gradient_without_2),
        Mistake("R(W) squares the sum of the weights; it is the sum of the squared weights.",
                variant=l2_square_of_sum),
    )),
    Check("l1_reg", REG_CASES, mistakes=(
        Mistake("the gradient of |W| is sign(W), not W.", variant=l1_gradient_w),
        Mistake("the gradient of |W| is sign(W), not |W|.", variant=l1_gradient_abs),
    )),
    Check("elastic_net_reg", ELASTIC_CASES, mistakes=(
        Mistake("beta weights the L1 part; on the slides it weights the L2 part: sum(beta * W**2 + |W|).",
                variant=elastic_beta_on_l1),
        Mistake("the gradient of beta * W**2 is 2 * beta * W.", variant=elastic_gradient_without_2),
        Mistake("the gradient misses the L1 part, sign(W).", variant=elastic_missing_l1_gradient),
    )),
    Check("ridge_fit", RIDGE_CASES, mistakes=RIDGE_MISTAKES),
    Check("loss_facts", tuple(answer_case(k) for k in FACT_KEYS), run=look_up_answer, is_value=True, rtol=1e-3, mistakes=(
        Mistake("at initialization every wrong class contributes max(0, 0 - 0 + 1) = 1 and the correct class "
                "is not in the sum, so the SVM loss is C - 1 = 9.", variant={"svm_at_init": 10.0}),
        Mistake("a loss is -log(probability): it is unbounded as the probability of the correct class goes "
                "to 0, so the largest softmax loss is infinite, not 1.", variant={"softmax_max": 1.0}),
    )),
]

# Sample submissions (autograder/samples/01_losses/): each is the reference
# with these definitions replaced, as a student would have written them.
SAMPLES = {
    "svm_counts_correct_class": {"svm_loss": svm_includes_correct_class},
    "softmax_overflow": {
        "softmax_loss_naive": """
            def softmax_loss_naive(scores, y):
                loss = 0.0
                for i in range(scores.shape[0]):
                    probs = np.exp(scores[i]) / np.sum(np.exp(scores[i]))
                    loss += -np.log(probs[y[i]])
                return float(loss / scores.shape[0])
        """,
        "softmax_loss": """
            def softmax_loss(scores, y):
                probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
                return float(-np.log(probs[np.arange(len(y)), y]).mean())
        """,
    },
    "softmax_sums": {"softmax_loss": softmax_sum_not_mean},
    "l2_with_half": {"l2_reg": l2_with_half, "elastic_net_reg": elastic_gradient_without_2},
    "ridge_bias_free": {"ridge_fit": ridge_bias_unpenalized},
    "half_done": {
        "softmax_loss": "def softmax_loss(scores, y):\n    raise NotImplementedError()",
        "ridge_fit": "def ridge_fit(X, y, lam):\n    raise NotImplementedError()",
        "loss_facts": """
            loss_facts = {
                "svm_min": 0.0,
                "svm_max": float("inf"),
                "softmax_min": 0.0,
                "softmax_max": 1.0,
                "svm_at_init": 10.0,
                "softmax_at_init": 2.3026,
                "w_unique_when_zero_loss": False,
            }
        """,
    },
}
