"""Shared layer (every lesson): the one registry of the models a learner can pick.

Each ``ModelSpec`` holds every fact the shell needs about one model: its key (the widget value
and the ``?model=`` link parameter), its label, the ``gd`` model class, the dataset generator,
the pieces of the Keras and PyTorch scripts, the NumPy line of its batch gradient, whether it
has a closed-form surface and stability bound, its work per row and how its fit is drawn. The
names of its parameters come from the ``gd`` model itself, and the true values in the scripts
from the generator's signature. A new model is one more entry in ``MODELS``.

Example:
    >>> MODELS["network"].start_keys, len(MODELS["network"].parameters)
    (('init_seed',), 49)
    >>> MODELS["tanh"].parameters, MODELS["tanh"].start_labels
    (('w', 'a'), ('Start w', 'Start a'))
    >>> MODELS["linear"].truth, MODELS["tanh"].truth
    ((('slope', 2.0), ('intercept', -1.0)), (('w_true', 1.5), ('a_true', 2.0)))
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import gd
from gd.models import Model

# One update's fixed cost (the optimizer step, recording it), in rows of linear regression: fit
# at batch size 1 against full batch (ui.budget, docs/budget.md).
UPDATE_ROWS = 16
MSE = "torch.nn.MSELoss()  # mean over the batch, as Keras's mse"
# Keras 3's loss on the logit z that Dense(1) outputs: BinaryCrossentropy(from_logits=True) is
# softplus(z) − y·z unclipped, the page's loss. Dense(1, activation="sigmoid") with
# "binary_crossentropy" clips p to [1e-7, 1 − 1e-7] instead, so a misclassified row with
# |z| > 16 gets zero gradient there (keras/src/backend/*/nn.py binary_crossentropy).
LOGIT_NOTE = (
    "# Dense(1) outputs the logit z, and the loss takes z unclipped, as the page does. A",
    '# sigmoid layer with "binary_crossentropy" clips p to [1e-7, 1 - 1e-7]: a misclassified',
    "# row with |z| > 16 would get zero gradient there.",
)


@dataclass(frozen=True)
class Layer:
    """A custom layer for the scripts, when the model is not one ``Dense(1)`` layer.

    Its weights are the model's parameters, in order, each a scalar started at the page's
    start point.
    """

    name: str  # the class name in the scripts
    summary: str  # the class docstring
    output: str  # the forward pass from ``x`` and ``self.<parameter>``; ``{ops}`` is keras.ops,
    # the Keras 2 backend or torch


@dataclass(frozen=True)
class Scripts:
    """What the Keras 3, legacy Keras 2 and PyTorch scripts need to know about a model."""

    target: str  # y from x, noise and the true values ``{0}``, ``{1}`` (named as in ``truth``)
    keras_loss: str  # Keras 3's ``loss=`` argument, as code: ``"mse"`` or a loss object
    keras2_loss: str  # legacy Keras's ``loss=`` argument, as code
    torch_loss: str  # the expression after ``loss_fn =``, with its comment
    keras2_loss_lines: tuple[str, ...] = ()  # legacy lines that define ``keras2_loss``
    loss_note: tuple[str, ...] = ()  # comment lines above ``compile`` in both Keras scripts
    layer: Layer | None = None  # a custom layer instead of ``Dense(1)``


@dataclass(frozen=True)
class ModelSpec:
    """One model of the app: every fact about it that the pages use, in one record."""

    key: str  # widget value and link parameter: ``?model=tanh``
    label: str  # what the model selector shows
    model: type[Model]
    generator: Callable[..., gd.Dataset]  # its synthetic data, ``gd.datasets.<name>``
    true_values: tuple[str, ...]  # the generator's arguments that shape the data
    scripts: Scripts
    gradient_line: str  # the one NumPy line that computes a batch's gradient
    closed_form: bool  # a quadratic loss: a closed-form minimum and the bound 2(1 + μ)/λmax
    cost: int  # work per row, relative to linear regression's (ui.budget, docs/budget.md)
    update_work: int  # one update's fixed work in those units: the step and its record
    fit_label: str = "fit"  # what the data chart's line shows ("P(y = 1)" for a classifier)
    seeded_start: bool = False  # starts where Keras would, from a seed (``Settings.init_seed``),
    # not from a point the learner types (``w0``, ``b0``): a network's many weights

    @property
    def start_keys(self) -> tuple[str, ...]:
        """The settings that say where the run starts: a seed, or the two coordinates."""
        return ("init_seed",) if self.seeded_start else ("w0", "b0")

    def build(self) -> Model:
        """A fresh ``gd`` model (models hold no state)."""
        return self.model()

    @property
    def parameters(self) -> tuple[str, ...]:
        """The names of the parameters, from ``gd``, for one feature: ("w", "b"), ("w", "a"),
        or a network's 49 ("W1[0,0]", …, "b2")."""
        return self.build().param_names(1)

    @property
    def two_parameters(self) -> bool:
        """Whether the parameters are a plane themselves (the contour view needs no slice)."""
        return len(self.parameters) == 2

    @property
    def start_labels(self) -> tuple[str, ...]:
        """The start-point widgets' labels: "Start w", then "Start b" or "Start a"."""
        return tuple(f"Start {name}" for name in self.parameters)

    @property
    def truth(self) -> tuple[tuple[str, object], ...]:
        """The script's names and values of ``true_values``, defaults of the generator.

        A name that is also a parameter's name gets ``_true``, so a script never calls the
        truth and the fitted weight by one name.
        """
        defaults = inspect.signature(self.generator).parameters
        return tuple(
            (f"{name}_true" if name in self.parameters else name, defaults[name].default)
            for name in self.true_values
        )


MODELS: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in [
        ModelSpec(
            key="linear",
            label="Linear regression",
            model=gd.models.LinearRegression,
            generator=gd.datasets.linear,
            true_values=("slope", "intercept"),
            scripts=Scripts(
                target="{0} * x + {1} + noise",
                keras_loss='"mse"',
                keras2_loss='"mse"',
                torch_loss=MSE,
            ),
            gradient_line=(
                "grad = 2 / B * X_b.T @ (X_b @ w - y_b)  # (P,) from X_b (B, P), y_b (B,)"
            ),
            closed_form=True,
            cost=1,
            update_work=UPDATE_ROWS,
        ),
        ModelSpec(
            key="logistic",
            label="Logistic regression",
            model=gd.models.LogisticRegression,
            generator=gd.datasets.logistic,
            true_values=("slope", "intercept"),
            scripts=Scripts(
                target="({0} * x + {1} + noise > 0).astype(np.float64)  # labels 0/1",
                keras_loss="keras.losses.BinaryCrossentropy(from_logits=True)",
                keras2_loss="binary_crossentropy_from_logits",
                torch_loss="torch.nn.BCEWithLogitsLoss()  # on the logit z, unclipped, as Keras's "
                "from_logits=True",
                keras2_loss_lines=(
                    "def binary_crossentropy_from_logits(y_true, y_pred):",
                    '    """Binary cross-entropy on the logit z, unclipped. A sigmoid layer with',
                    '    "binary_crossentropy" clips p: a row with |z| > 16 stops learning."""',
                    "    return K.mean(K.binary_crossentropy(y_true, y_pred, from_logits=True), "
                    "axis=-1)",
                ),
                loss_note=LOGIT_NOTE,
            ),
            gradient_line="grad = 1 / B * X_b.T @ (sigmoid(X_b @ w) - y_b)  # (P,) from X_b (B, P)",
            closed_form=False,
            cost=6,  # an exp and a log a row
            update_work=UPDATE_ROWS * 6,  # scales with the row cost, as measured
            fit_label="P(y = 1)",
        ),
        ModelSpec(
            key="tanh",
            label="Tiny non-convex net: a·tanh(w·x)",
            model=gd.models.TanhNeuron,
            generator=gd.datasets.tanh,
            true_values=("w", "a"),
            scripts=Scripts(
                target="{1} * np.tanh({0} * x) + noise",
                keras_loss='"mse"',
                keras2_loss='"mse"',
                torch_loss=MSE,
                layer=Layer(
                    name="TanhNeuron",
                    summary="The page's tiny non-convex net: y = a·tanh(w·x).",
                    output="self.a * {ops}.tanh(self.w * x)",
                ),
            ),
            gradient_line=(
                "h = np.tanh(w * x_b); r = a * h - y_b                 # (B,)\n"
                "grad = 2 / B * np.array([r @ (a * (1 - h**2) * x_b), r @ h])  # (2,)"
            ),
            closed_form=False,
            cost=3,  # a tanh a row
            update_work=UPDATE_ROWS * 3,
        ),
        ModelSpec(
            key="network",
            label="Small network: 16 tanh units",
            model=gd.models.MLP,
            generator=gd.datasets.curve,
            true_values=("kind",),
            scripts=Scripts(
                target="np.sin(1.5 * u) + noise  # the sine curve, u = (x - x_mean) / x_std",
                keras_loss='"mse"',
                keras2_loss='"mse"',
                torch_loss=MSE,
            ),
            gradient_line=(
                "a = np.tanh(x_b @ W1 + b1); r = a @ W2 + b2 - y_b      # (B, 16), (B,)\n"
                "d = 2 / B * r; e = np.outer(d, W2) * (1 - a**2)       # (B,), (B, 16)\n"
                "grad = [x_b.T @ e, e.sum(0), a.T @ d, d.sum()]        # W1, b1, W2, b2"
            ),
            closed_form=False,
            cost=33,  # 16 tanh units and 49 weights a row: 0.55 µs a row, linear's 0.017
            update_work=33,  # 100 000 updates of batch size 1 take 51 ms: one row's work each
            seeded_start=True,
        ),
    ]
}
