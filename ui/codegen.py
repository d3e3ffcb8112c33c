"""Shared builders (used by "From Keras to here"): settings in, runnable scripts out, the same
run in Keras 3, legacy Keras 2 and PyTorch.

Pure functions (no Streamlit), so tests can parse every script a learner copies. Each script
rebuilds the data with the formula of ``gd.datasets`` (or loads the uploaded CSV), starts at the
page's start (its (w0, b0), or the network's 49 weights), and prints what ``fit`` reports.
Floats are written with ``repr`` so every value is exact, and with shuffle on every script
replays the page's row order. Why each line is as it is, with sources: ``docs/semantics.md``.

Example:
    >>> from ui.controls import Settings
    >>> "InverseTimeDecay" in keras3_code(Settings(decay=0.01))
    True
    >>> "InverseTimeDecay" in keras3_code(Settings(decay=0.0))
    False
"""

from __future__ import annotations

import math

import numpy as np

import gd
from ui.controls import Settings

CSV_FILE = "data.csv"
# The legacy script's one name: the tab that shows it and the script's own first line.
KERAS2_NAME = "Legacy Keras 2 (Keras 2.2 – 2.10)"
KERAS2_OUTPUT_SHAPE = [  # Keras 2.2 layers must state their output shape
    "    def compute_output_shape(self, input_shape):",
    "        return input_shape",
]


NETWORK_WEIGHTS = ("W1", "b1", "W2", "b2")  # the network's arrays, as Keras's get_weights()
# A Keras model's final weights as one flat list, whatever their shapes: [w, b] for Dense(1),
# the network's in get_weights() order, which is the page's.
KERAS_WEIGHTS = "[w for v in model.get_weights() for w in v.ravel().tolist()]"
TORCH_ACTIVATIONS = {"tanh": "torch.nn.Tanh()", "relu": "torch.nn.ReLU()"}


def _num(value: float) -> str:
    """An exact float literal: ``repr(float(value))``, so 0.1 stays 0.1 and 1 becomes 1.0."""
    return repr(float(value))


# The uploaded file read by gd.datasets.from_csv's rules (its ``_decode``, ``_nonblank_rows``,
# ``_cells`` and ``_is_number``), without its checks: the page accepted the file, so the script
# meets only what the page read, and gets the same rows, values (Python's float()) and order.
# tests/test_codegen.py checks it against from_csv on every accepted file of tests/data.
CSV_READER = [
    "def is_number(cell):",
    "    try:",
    "        float(cell)",
    "    except ValueError:",
    "        return False",
    "    return True",
    "",
    "",
    "def read_csv(path):",
    '    """x (n,) and y (n,) from a two-column CSV file, read as the page read it: UTF-8 (a',
    "    byte-order mark dropped), else Latin-1; LF, CRLF or CR line ends; rows of only spaces",
    "    and commas skipped; the first row taken as a header when none of its cells is a",
    '    number."""',
    '    with open(path, "rb") as file:',
    "        data = file.read()",
    "    try:",
    '        text = data.decode("utf-8-sig")',
    "    except UnicodeDecodeError:",
    '        text = data.decode("latin-1")',
    "    rows = [",
    '        [cell.strip() for cell in line.rstrip("\\n").split(",")]',
    "        for line in io.StringIO(text, newline=None)  # LF, CRLF or CR",
    '        if line.strip(string.whitespace + ",")  # not a blank row',
    "    ]",
    "    if not any(is_number(cell) for cell in rows[0]):",
    "        rows = rows[1:]  # the header",
    "    table = np.array([[float(cell) for cell in row] for row in rows])  # (n, 2)",
    "    return table[:, 0], table[:, 1]",
]


def _imports(settings: Settings, *names: str) -> list[str]:
    """A script's standard-library imports: ``names``, and what reading the CSV needs."""
    csv = ("io", "string") if settings.source == "csv" else ()
    return [f"import {name}" for name in sorted({*names, *csv})]


def data_lines(settings: Settings) -> list[str]:
    """Script lines that build ``x`` (n,) and ``y`` (n,) exactly as the page's data."""
    s = settings
    if s.source == "csv":
        return [
            "",
            *CSV_READER,
            "",
            "",
            f"# The CSV you uploaded, saved as {CSV_FILE} next to this script and left as it",
            "# is: read_csv follows the page's rules (header row or none, blank rows, Latin-1),",
            "# so it gets the rows the page trained on, in the same order.",
            f'x, y = read_csv("{CSV_FILE}")  # (n,), (n,)',
        ]
    template = s.spec.scripts.target
    # The true values the target reads (slope, intercept, ...) become the script's variables;
    # the others (the curve's kind) are arguments of the generator, named in its comment.
    read = [(f"{{{i}}}" in template, name, value) for i, (name, value) in enumerate(s.spec.truth)]
    fixed = "".join(f"{name}={value!r}, " for used, name, value in read if not used)
    variables = [(name, value) for used, name, value in read if used]
    lines = [
        f"# gd.datasets.{s.spec.generator.__name__}(n={s.n}, {fixed}noise={_num(s.noise)}, "
        f"x_mean={_num(s.x_mean)}, x_std={_num(s.x_std)}, seed={s.data_seed})",
    ]
    if variables:
        names, values = zip(*variables, strict=True)
        lines.append(f"{', '.join(names)} = {', '.join(_num(value) for value in values)}")
    return [
        *lines,
        f"rng = np.random.default_rng({s.data_seed})",
        *_inputs(s),
        f"noise = {_num(s.noise)} * rng.standard_normal({s.n})  # (n,)",
        f"y = {template.format(*(name for _, name, _ in read))}",
    ]


def _inputs(settings: Settings) -> list[str]:
    """Script lines that draw ``x`` (n,) from ``rng`` as the page's generator does: from a
    normal, or for ``gd.datasets.curve`` from u ~ U(-3, 3), which its target reads, stretched
    to x = x_mean + x_std·u."""
    s = settings
    if s.spec.generator is gd.datasets.curve:
        return [
            f"u = rng.uniform(-3.0, 3.0, size={s.n})  # (n,) where the curve is read",
            f"x = {_num(s.x_mean)} + {_num(s.x_std)} * u  # (n,)",
        ]
    return [f"x = rng.normal({_num(s.x_mean)}, {_num(s.x_std)}, size={s.n})  # (n,)"]


def _fit_lines(settings: Settings) -> list[str]:
    """Both Keras scripts' ``fit``: one call with shuffle off; with shuffle on, one call per
    epoch on the rows put in the page's order, so ``history`` holds the page's numbers."""
    s = settings
    split = _num(s.validation_split)
    if not s.shuffle:
        return [
            "# shuffle=False: the batches hold the same rows as on the page, in order.",
            "history = model.fit(",
            f"    x, y, batch_size={s.batch_size}, epochs={s.epochs}, shuffle=False, "
            f"validation_split={split}, verbose=0",
            ").history",
        ]
    if s.validation_split > 0:
        split_lines = [
            "# validation_split keeps the LAST rows, cut before any shuffling: only the first",
            "# n_train rows are put in the page's order, and the validation rows stay last.",
            f"n_train = math.floor(len(x) * (1.0 - {split}))",
        ]
        rows = "np.concatenate([order_rng.permutation(n_train), np.arange(n_train, len(x))])"
        history = '{"loss": [], "val_loss": []}'
    else:
        split_lines, rows, history = [], "order_rng.permutation(len(x))", '{"loss": []}'
    return [
        "# The page's row order: one permutation of the training rows per epoch, drawn in order",
        "# from ONE np.random.default_rng(seed). Keras's shuffle=True would draw its own, so",
        "# each epoch is fitted alone, with shuffle=False, on the rows put in the page's order.",
        "# optimizer.iterations carries over from one fit() to the next, so the learning rate",
        "# schedule goes on where it was.",
        *split_lines,
        f"order_rng = np.random.default_rng({s.seed})",
        f"history = {history}",
        f"for epoch in range({s.epochs}):",
        f"    rows = {rows}",
        "    epoch_history = model.fit(",
        f"        x[rows], y[rows], batch_size={s.batch_size}, epochs=1, shuffle=False, "
        f"validation_split={split}, verbose=0",
        "    ).history",
        "    for key in history:",
        "        history[key] += epoch_history[key]",
    ]


def _needs_math(settings: Settings) -> bool:
    """Whether a Keras script computes ``n_train`` itself (shuffle on, with a split)."""
    return settings.shuffle and settings.validation_split > 0


def keras3_code(settings: Settings) -> str:
    """A Keras 3 script on the torch backend: ``SGD`` with ``InverseTimeDecay`` exactly when
    ``decay > 0``, and the page's row order when shuffle is on."""
    s = settings
    scripts = s.spec.scripts
    lines = [
        '"""Keras 3 on the torch backend: the page\'s run (Keras convention)."""',
        *_imports(s, "os", *(["math"] if _needs_math(s) else [])),
        "",
        "import numpy as np",
        "",
        'os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported',
        "import keras",
        "",
        "# Weights and data in float64, but on the torch backend Keras 3 still computes Dense",
        "# (the matmul) and the loss's mean in float32: expect the page's numbers to about 7",
        "# significant digits. The PyTorch script computes in float64: about 15.",
        'keras.config.set_floatx("float64")',
        "",
        *data_lines(s),
        "x, y = x.reshape(-1, 1), y.reshape(-1, 1)  # (n, 1): one feature, one output",
        "",
        *_keras_model(s, "keras", "keras.ops"),
        "",
    ]
    if s.decay > 0:
        lines += [
            "# Legacy decay=... is ignored by Keras 3 (a warning only). The exact equivalent of",
            "# lr_t = lr / (1 + decay·t), t = updates so far (from 0, per batch, never reset):",
            "learning_rate = keras.optimizers.schedules.InverseTimeDecay(",
            f"    initial_learning_rate={_num(s.learning_rate)}, decay_steps=1, "
            f"decay_rate={_num(s.decay)}",
            ")",
        ]
    else:
        lines.append(f"learning_rate = {_num(s.learning_rate)}  # decay = 0: a constant rate")
    lines += [
        "optimizer = keras.optimizers.SGD(  # learning_rate=, not lr=: Keras 3 rejects lr=",
        f"    learning_rate=learning_rate, momentum={_num(s.momentum)}, nesterov={s.nesterov}",
        ")",
        *scripts.loss_note,
        f"model.compile(optimizer=optimizer, loss={scripts.keras_loss})",
        "",
        *_fit_lines(s),
        *_history_prints(s, KERAS_WEIGHTS),
    ]
    return "\n".join(lines) + "\n"


def keras2_code(settings: Settings) -> str:
    """A legacy Keras 2.2-era script: ``SGD(lr=..., decay=...)`` and ``fit(epochs=...)``."""
    s = settings
    scripts = s.spec.scripts
    lines = [
        f'"""{KERAS2_NAME}: the page\'s run.',
        'In TF 2.11+, import SGD from tf.keras.optimizers.legacy instead."""',
        *_imports(s, "os", *(["math"] if _needs_math(s) else [])),
        "",
        "import numpy as np",
        "",
        'os.environ["KERAS_BACKEND"] = "tensorflow"  # multi-backend Keras reads it at import',
        "from keras import backend as K",
        *([] if _network(s) else ["from keras import initializers"]),
        f"from keras.layers import {'Dense' if scripts.layer is None else 'Layer'}",
        "from keras.models import Sequential",
        "from keras.optimizers import SGD",
        "",
        "# Weights and data in float64. Unlike the Keras 3 and PyTorch scripts, this one has not",
        "# been run against the page, so its digits are not checked.",
        'K.set_floatx("float64")',
        "",
        *data_lines(s),
        "x, y = x.reshape(-1, 1), y.reshape(-1, 1)  # (n, 1): one feature, one output",
        "",
        *_keras_model(s, "", "K"),
        "",
        *(["", *scripts.keras2_loss_lines, "", ""] if scripts.keras2_loss_lines else []),
        "# lr_t = lr / (1 + decay·t): t counts updates (batches), from 0, never reset.",
        "optimizer = SGD(",
        f"    lr={_num(s.learning_rate)},  # Keras 3 rejects lr= with a ValueError: "
        "write learning_rate=",
        f"    decay={_num(s.decay)},  # Keras 3 ignores decay= (a warning): use InverseTimeDecay",
        f"    momentum={_num(s.momentum)},",
        f"    nesterov={s.nesterov},",
        ")",
        *scripts.loss_note,
        f"model.compile(optimizer=optimizer, loss={scripts.keras2_loss})",
        "",
        "# Keras 1 spelled epochs as nb_epoch, and nb_epoch defaulted to 10; Keras 2 renamed it",
        "# epochs (default 1). Old tutorials that omit it trained for 10 epochs.",
        *([""] if s.shuffle else []),
        *_fit_lines(s),
        *_history_prints(s, KERAS_WEIGHTS),
    ]
    return "\n".join(lines) + "\n"


def _network(settings: Settings) -> gd.models.MLP | None:
    """The model when it is a network: two ``Dense`` layers (``Linear`` in PyTorch) started at
    the page's seeded start, set as arrays. None for a model of two scalar weights."""
    model = settings.spec.build()
    return model if isinstance(model, gd.models.MLP) else None


def _network_start(settings: Settings, network: gd.models.MLP) -> list[str]:
    """Script lines that define the page's start as the arrays of Keras's ``get_weights()``,
    W1 (1, H), b1 (H,), W2 (H, 1), b2 (1,) (``gd.models.MLP.weights``), each value exact."""
    lines = [
        "# The page's start: the kind Keras draws (Glorot-uniform kernels, zero biases), drawn",
        f"# by the page from seed {settings.init_seed}. The arrays of model.get_weights(): "
        "kernels are (inputs, units).",
    ]
    for name, array in zip(NETWORK_WEIGHTS, network.weights(settings.start, 1), strict=True):
        values = [_num(value) for value in array.ravel()]
        shape = ", ".join(map(str, array.shape))
        rows = [", ".join(values[i : i + 4]) for i in range(0, len(values), 4)]  # 4 a line
        literal = (
            [f"{name} = np.array([{rows[0]}])"]
            if len(rows) == 1
            else [f"{name} = np.array([", *(f"    {row}," for row in rows), "])"]
        )
        literal[-1] += f".reshape({shape})" if array.ndim == 2 else f"  # ({shape},)"
        lines += literal
    return lines


def _sequential(prefix: str, layers: list[str]) -> list[str]:
    """``model = Sequential([...])`` of the ``layers`` lines (indented here): Keras 3 names
    ``keras.`` (``prefix``) and starts with an ``Input``; legacy Keras's first layer gives
    ``input_dim=1`` itself."""
    head = (
        [f"model = {prefix}.Sequential([", f"    {prefix}.Input(shape=(1,)),"]
        if prefix
        else ["model = Sequential(["]
    )
    return [*head, *(f"    {line}" for line in layers), "])"]


def _keras_network(network: gd.models.MLP, prefix: str) -> list[str]:
    """``Dense(hidden, activation)`` then ``Dense(1)``, set to the page's start."""
    dense = f"{prefix}.layers.Dense" if prefix else "Dense"
    first = f'{dense}({network.hidden}, activation="{network.activation}"'
    return [
        *_sequential(prefix, [f"{first}{'' if prefix else ', input_dim=1'}),", f"{dense}(1),"]),
        f"model.set_weights([{', '.join(NETWORK_WEIGHTS)}])",
    ]


def _keras_model(settings: Settings, prefix: str, ops: str) -> list[str]:
    """The model, starting at the page's start: ``Dense(1)`` (its output is the prediction, or
    the logit for the logistic model), a custom layer, or the network."""
    s = settings
    scripts = s.spec.scripts
    network = _network(s)
    if network is not None:
        return [*_network_start(s, network), "", *_keras_network(network, prefix)]
    init = f"{prefix}.initializers" if prefix else "initializers"
    if scripts.layer is not None:
        layer = f"{prefix}.layers.Layer" if prefix else "Layer"
        model = f"{prefix}.Sequential" if prefix else "Sequential"
        shape = "shape=()" if prefix else "shape=(1,)"
        weights = [
            f'        self.{name} = self.add_weight(name="{name}", {shape}, '
            f"initializer={init}.Constant({_num(value)}))"
            for name, value in zip(s.spec.parameters, s.start, strict=True)
        ]
        return [
            f"class {scripts.layer.name}({layer}):",
            f'    """{scripts.layer.summary}"""',
            "",
            "    def build(self, input_shape):",
            *weights,
            *([] if prefix else ["        super().build(input_shape)"]),
            "",
            "    def call(self, x):",
            f"        return {scripts.layer.output.format(ops=ops)}",
            *([] if prefix else ["", *KERAS2_OUTPUT_SHAPE]),
            "",
            f"model = {model}([{prefix + '.Input(shape=(1,)), ' if prefix else ''}"
            f"{scripts.layer.name}({'' if prefix else 'input_shape=(1,)'})])",
        ]
    dense = f"{prefix}.layers.Dense" if prefix else "Dense"
    shape = "" if prefix else "input_dim=1, "
    return _sequential(
        prefix,
        [
            f"{dense}(",
            f"    1, {shape}kernel_initializer={init}.Constant({_num(s.w0)}),",
            f"    bias_initializer={init}.Constant({_num(s.b0)}),",
            "),",
        ],
    )


def _history_prints(settings: Settings, weights: str) -> list[str]:
    """Print ``history`` (a dict of per-epoch lists) and the final weights, every digit."""
    parameters = settings.spec.parameters
    names = (
        f"[{', '.join(parameters)}]"
        if len(parameters) <= 2
        else f"{len(parameters)} weights, {parameters[0]} ... {parameters[-1]}, in this order"
    )
    lines = ['print("loss", history["loss"])  # one running mean per epoch']
    if settings.validation_split > 0:
        lines.append('print("val_loss", history["val_loss"])  # at each epoch\'s end weights')
    lines.append(f'print("weights", {weights})  # the final {names}')
    return lines


SAMPLER = [
    "class PageOrder(Sampler):",
    '    """The page\'s row order: one permutation per epoch, drawn in order from ONE',
    "    np.random.default_rng(seed). DataLoader(shuffle=True) would draw its own order from",
    '    torch\'s generator."""',
    "",
    "    def __init__(self, n, seed):",
    "        self.n, self.rng = n, np.random.default_rng(seed)",
    "",
    "    def __len__(self):",
    "        return self.n",
    "",
    "    def __iter__(self):  # once per epoch",
    "        return iter(self.rng.permutation(self.n).tolist())",
]

KERAS_SGD = [
    "class KerasSGD(torch.optim.Optimizer):",
    '    """Keras\'s SGD in PyTorch: the velocity keeps each step\'s own rate. torch.optim.SGD',
    "    multiplies its whole buffer by the current rate instead, which differs as soon as the",
    '    rate decays."""',
    "",
    "    def __init__(self, params, lr, momentum, nesterov):",
    '        super().__init__(params, {"lr": lr, "momentum": momentum, "nesterov": nesterov})',
    "",
    "    @torch.no_grad()",
    "    def step(self):",
    "        for group in self.param_groups:",
    '            lr, momentum = group["lr"], group["momentum"]',
    '            for p in group["params"]:',
    '                v = self.state[p].setdefault("velocity", torch.zeros_like(p))  # from 0',
    "                v.mul_(momentum).sub_(lr * p.grad)  # v <- momentum·v - lr·g",
    '                if group["nesterov"]:',
    "                    p.add_(momentum * v - lr * p.grad)  # w <- w + momentum·v - lr·g",
    "                else:",
    "                    p.add_(v)  # w <- w + v",
]


def keras_sgd_in_torch(settings: Settings) -> bool:
    """Whether the PyTorch script needs ``KerasSGD``: Keras's convention, and the two
    conventions part (momentum with a decaying rate)."""
    s = settings
    return s.convention == "keras" and s.momentum > 0 and s.decay > 0


def pytorch_code(settings: Settings) -> str:
    """A PyTorch script in float64: a ``DataLoader`` (with the page's order as its sampler when
    shuffle is on), ``torch.optim.SGD`` (or ``KerasSGD`` where Keras's convention differs) and,
    when decay > 0, ``LambdaLR`` stepped after every batch."""
    s = settings
    convention = "Keras" if s.convention == "keras" else "PyTorch"
    lines = [
        f'"""PyTorch: the page\'s run ({convention} convention)."""',
        *_imports(s, "math"),
        "",
        "import numpy as np",
        "import torch",
        f"from torch.utils.data import DataLoader, {'Sampler, ' if s.shuffle else ''}TensorDataset",
        "",
        "torch.set_default_dtype(torch.float64)  # float64 throughout, as the page: expect its",
        "# numbers to about 15 significant digits",
        "",
        *data_lines(s),
        "x, y = torch.tensor(x).reshape(-1, 1), torch.tensor(y).reshape(-1, 1)  # (n, 1)",
        "",
        "# Keras's validation_split: the LAST rows, cut off before any shuffling.",
        f"n_train = math.floor(len(x) * (1.0 - {_num(s.validation_split)}))",
        "x_train, y_train, x_val, y_val = x[:n_train], y[:n_train], x[n_train:], y[n_train:]",
        "",
        *_torch_model(s),
        "",
    ]
    if s.shuffle:
        lines += [
            "",
            *SAMPLER,
            "",
            "",
            "loader = DataLoader(",
            f"    TensorDataset(x_train, y_train), batch_size={s.batch_size}, "
            f"sampler=PageOrder(n_train, {s.seed})",
            ")  # drop_last=False: the last, smaller batch is kept, as in Keras",
        ]
    else:
        lines += [
            "# shuffle=False: the batches hold the same rows as on the page, in order.",
            "loader = DataLoader(",
            f"    TensorDataset(x_train, y_train), batch_size={s.batch_size}, shuffle=False",
            ")  # drop_last=False: the last, smaller batch is kept, as in Keras",
        ]
    rates = f"lr={_num(s.learning_rate)}, momentum={_num(s.momentum)}, nesterov={s.nesterov}"
    if keras_sgd_in_torch(s):
        lines += [
            "",
            "",
            *KERAS_SGD,
            "",
            "",
            "# Keras's convention with momentum AND a decaying rate: torch.optim.SGD would give",
            "# PyTorch's numbers, not Keras's, so this script uses KerasSGD.",
            f"optimizer = KerasSGD(model.parameters(), {rates})",
        ]
    else:
        if s.momentum > 0 and s.decay == 0:
            lines.append(
                "# A constant rate: torch.optim.SGD takes Keras's steps too (velocity = -lr·buf)."
            )
        lines += [
            "optimizer = torch.optim.SGD(",
            f"    model.parameters(), {rates}",
            ")",
        ]
    if s.decay > 0:
        lines += [
            "# Keras's decay: lr_t = lr / (1 + decay·t), with t counted per batch from 0.",
            "scheduler = torch.optim.lr_scheduler.LambdaLR(",
            f"    optimizer, lambda t: 1.0 / (1.0 + {_num(s.decay)} * t)",
            ")",
        ]
        if s.momentum > 0 and s.convention == "pytorch":
            lines += [
                "# With momentum AND a changing lr, PyTorch's numbers differ from Keras's: PyTorch",
                "# multiplies its whole momentum buffer by the current lr, while Keras froze each",
                "# step's own lr into its velocity. This script gives the page's PyTorch numbers.",
            ]
    history = (
        'history = {"loss": [], "val_loss": []}'
        if s.validation_split > 0
        else 'history = {"loss": []}'
    )
    lines += [
        "",
        history,
        f"for epoch in range({s.epochs}):",
        "    total = 0.0",
        "    for xb, yb in loader:",
        "        optimizer.zero_grad()",
        "        loss = loss_fn(model(xb), yb)  # at the weights BEFORE this update",
        "        loss.backward()",
        "        optimizer.step()",
        *(
            ["        scheduler.step()  # after optimizer.step(), once per batch"]
            if s.decay > 0
            else []
        ),
        "        total += loss.item() * len(xb)  # weighted by batch size, as Keras averages",
        '    history["loss"].append(total / n_train)',
    ]
    if s.validation_split > 0:
        lines += [
            "    with torch.no_grad():  # at the end-of-epoch weights, as Keras's val_loss",
            '        history["val_loss"].append(loss_fn(model(x_val), y_val).item())',
        ]
    if _network(s) is None:
        lines += _history_prints(s, "[p.item() for p in model.parameters()]")
    else:
        lines += [
            "# In Keras's layout (kernels (inputs, units)) and order, as the page lists them",
            "layers = [model[0].weight.T, model[0].bias, model[2].weight.T, model[2].bias]",
            *_history_prints(s, "torch.cat([w.reshape(-1) for w in layers]).tolist()"),
        ]
    return "\n".join(lines) + "\n"


def _torch_model(settings: Settings) -> list[str]:
    s = settings
    scripts = s.spec.scripts
    network = _network(s)
    if network is not None:
        h = network.hidden
        return [
            *_network_start(s, network),
            "",
            "model = torch.nn.Sequential(",
            f"    torch.nn.Linear(1, {h}), {TORCH_ACTIVATIONS[network.activation]}, "
            f"torch.nn.Linear({h}, 1)",
            f')  # Keras\'s Dense({h}, activation="{network.activation}"), then Dense(1)',
            "with torch.no_grad():  # the page's start; Linear.weight is (outputs, inputs), the",
            "    # transpose of Keras's kernel",
            f"    model[0].weight.copy_(torch.tensor(W1.T))  # ({h}, 1)",
            "    model[0].bias.copy_(torch.tensor(b1))",
            f"    model[2].weight.copy_(torch.tensor(W2.T))  # (1, {h})",
            "    model[2].bias.copy_(torch.tensor(b2))",
            f"loss_fn = {scripts.torch_loss}",
        ]
    if scripts.layer is not None:
        return [
            f"class {scripts.layer.name}(torch.nn.Module):",
            f'    """{scripts.layer.summary}"""',
            "",
            "    def __init__(self):",
            "        super().__init__()",
            *(
                f"        self.{name} = torch.nn.Parameter(torch.tensor({_num(value)}))"
                for name, value in zip(s.spec.parameters, s.start, strict=True)
            ),
            "",
            "    def forward(self, x):",
            f"        return {scripts.layer.output.format(ops='torch')}",
            "",
            f"model = {scripts.layer.name}()",
            f"loss_fn = {scripts.torch_loss}",
        ]
    return [
        "model = torch.nn.Linear(1, 1)  # its output: the prediction, or the logit z",
        "with torch.no_grad():  # the page's start point",
        f"    model.weight.fill_({_num(s.w0)})",
        f"    model.bias.fill_({_num(s.b0)})",
        f"loss_fn = {scripts.torch_loss}",
    ]


def run_csv(run: gd.Run, names: tuple[str, ...]) -> str:
    """One CSV row per update: what the optimizer saw and did.

    Columns: ``update`` (1-based), ``epoch`` (1-based), ``batch_size`` (rows in that batch;
    the last of an epoch may be smaller), ``learning_rate`` (the rate it used),
    ``batch_loss`` (at the weights before it), the parameters after it (named by ``names``), and
    ``full_loss`` (training loss after it; empty where it was not recorded). Values are exact
    (``repr``).
    """
    updates = np.arange(1, run.updates + 1)  # (U,)
    epoch = (updates - 1) // run.updates_per_epoch  # (U,)
    full = dict(zip(run.loss_steps.tolist(), run.loss.tolist(), strict=True))
    header = ["update", "epoch", "batch_size", "learning_rate", "batch_loss", *names, "full_loss"]
    rows = [",".join(header)]
    for i, u in enumerate(updates.tolist()):
        params = run.params[u]
        loss = full.get(u)
        cells = [
            str(u),
            str(int(epoch[i]) + 1),
            str(run.batch_rows(u - 1).size),
            repr(float(run.learning_rate[i])),
            repr(float(run.batch_loss[i])),
            *(repr(float(value)) for value in params),
            "" if loss is None or not math.isfinite(loss) else repr(float(loss)),
        ]
        rows.append(",".join(cells))
    return "\n".join(rows) + "\n"
