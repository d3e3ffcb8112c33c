"""The network's numbers are Keras's and PyTorch's (issue 18), computed by the libraries.

- Keras 3 (torch backend, float32): ``gd.fit`` with ``gd.models.MLP`` and the same start equals
  ``model.fit(..., shuffle=False)``: its history's loss and val_loss and its final weights, to
  Keras's float32 floor, with momentum, Nesterov and ``InverseTimeDecay`` (gd's ``decay``).
- PyTorch (float64): ``nn.Sequential(Linear, Tanh or ReLU, Linear)`` with ``optim.SGD`` and
  ``LambdaLR(1 / (1 + decay·t))`` stepped per batch, over gd's own row orders, equals every
  batch loss and the final weights to 1e-10.

Both libraries come from requirements-verify.txt; without them these tests skip.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

import gd
from gd.models import MLP

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported; no other test imports it
torch = pytest.importorskip("torch", reason="torch is in requirements-verify.txt")
keras = pytest.importorskip("keras", reason="keras is in requirements-verify.txt")

OPTIMIZERS = {
    "plain": gd.SGD(0.05),
    "momentum": gd.SGD(0.05, momentum=0.9),
    "nesterov": gd.SGD(0.05, momentum=0.9, nesterov=True),
    "decay": gd.SGD(0.1, momentum=0.5, decay=0.05),
}
# Keras computes in float32: each number carries about 6e-8 of rounding, and a few epochs of
# updates carry it on. Measured worst over these cases (2026-12-02, keras 3.15.1, torch 2.13):
# loss 2.4e-7 and val_loss 2.4e-7 relative, weights 3.6e-7 of the largest weight.
KERAS_RTOL = 2e-6


def data(n_features: int, n: int = 50):
    """The sine curve, with a second, noisy input column when asked for."""
    curve = gd.datasets.curve(n, "sine", noise=0.1, seed=4)
    columns = [curve.x] + [np.random.default_rng(5).normal(size=n)] * (n_features - 1)
    return np.column_stack(columns), curve.y


def keras_fit(network: MLP, x, y, opt: gd.SGD, init, **fit_kwargs):
    """Keras 3's ``model.fit`` of the same network from the same start."""
    model = keras.Sequential(
        [
            keras.Input((x.shape[1],)),
            keras.layers.Dense(network.hidden, activation=network.activation),
            keras.layers.Dense(1),
        ]
    )
    model.set_weights([w.astype(np.float32) for w in network.weights(init, x.shape[1])])
    rate = opt.learning_rate
    if opt.decay:  # the legacy decay, per update (docs/semantics.md §2.1)
        rate = keras.optimizers.schedules.InverseTimeDecay(rate, 1, opt.decay)
    optimizer = keras.optimizers.SGD(rate, momentum=opt.momentum, nesterov=opt.nesterov)
    model.compile(optimizer=optimizer, loss="mse")
    history = model.fit(
        x.astype(np.float32), y.astype(np.float32), shuffle=False, verbose=0, **fit_kwargs
    )
    return history.history, network.flatten(model.get_weights())


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("n_features", [1, 2])
def test_gd_fit_is_keras_3s_fit(activation, name, n_features):
    network = MLP(hidden=6, activation=activation)
    x, y = data(n_features)
    opt = OPTIMIZERS[name]
    init = network.init_params(n_features, seed=1)
    # 40 training rows in batches of 16: the last batch of each epoch has 8
    settings = {"batch_size": 16, "epochs": 4, "validation_split": 0.2}
    history, weights = keras_fit(network, x, y, opt, init, **settings)
    training = gd.Training(epochs=4, shuffle=False, validation_split=0.2, init=init)
    run = gd.fit(network, x, y, opt, training, batch_size=16)
    np.testing.assert_allclose(run.epoch_loss, history["loss"], rtol=KERAS_RTOL)
    np.testing.assert_allclose(run.val_loss, history["val_loss"], rtol=KERAS_RTOL)
    scale = np.abs(run.params[-1]).max()  # a weight near 0 carries the others' rounding
    np.testing.assert_allclose(weights, run.params[-1], rtol=KERAS_RTOL, atol=KERAS_RTOL * scale)


def test_the_keras_check_would_see_a_wrong_layout():
    # The first kernel transposed (column-major) is a different network: the check must see it.
    network = MLP(hidden=3)
    x, y = data(2)
    init = network.init_params(2, seed=1)
    w1, *rest = network.weights(init, 2)
    wrong = network.flatten([w1.T.reshape(w1.shape), *rest])
    history, _ = keras_fit(network, x, y, OPTIMIZERS["plain"], wrong, batch_size=16, epochs=1)
    run = gd.fit(
        network, x, y, OPTIMIZERS["plain"], gd.Training(shuffle=False, init=init), batch_size=16
    )
    assert abs(run.epoch_loss[0] / history["loss"][0] - 1) > 100 * KERAS_RTOL


def torch_run(network: MLP, x, y, opt: gd.SGD, init, run: gd.Run):
    """PyTorch's SGD over ``run``'s own batches, in float64: each batch loss, the end."""
    k, hidden = x.shape[1], network.hidden
    activation = torch.nn.Tanh() if network.activation == "tanh" else torch.nn.ReLU()
    model = torch.nn.Sequential(
        torch.nn.Linear(k, hidden), activation, torch.nn.Linear(hidden, 1)
    ).double()
    w1, b1, w2, b2 = network.weights(init, k)
    with torch.no_grad():  # PyTorch's Linear.weight is Keras's kernel transposed
        model[0].weight.copy_(torch.from_numpy(w1.T))
        model[0].bias.copy_(torch.from_numpy(b1))
        model[2].weight.copy_(torch.from_numpy(w2.T))
        model[2].bias.copy_(torch.from_numpy(b2))
    optimizer = torch.optim.SGD(
        model.parameters(), lr=opt.learning_rate, momentum=opt.momentum, nesterov=opt.nesterov
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: 1.0 / (1.0 + opt.decay * t))
    xs, ys = torch.tensor(x), torch.tensor(y)
    losses = []
    for update in range(run.updates):
        rows = torch.from_numpy(run.batch_rows(update))
        loss = torch.nn.MSELoss()(model(xs[rows]).squeeze(1), ys[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()  # per batch: Keras's legacy decay counts updates
        losses.append(loss.item())
    end = [model[0].weight.T, model[0].bias, model[2].weight.T, model[2].bias]
    return np.array(losses), network.flatten([p.detach().numpy() for p in end])


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_gd_fit_is_pytorchs_sgd_with_lambdalr(activation, name):
    network = MLP(hidden=5, activation=activation)
    x, y = data(1, n=45)
    opt = dataclasses.replace(OPTIMIZERS[name], convention="pytorch")
    init = network.init_params(1, seed=2)
    run = gd.fit(network, x, y, opt, gd.Training(epochs=3, seed=9, init=init), batch_size=7)
    losses, weights = torch_run(network, x, y, opt, init, run)
    np.testing.assert_allclose(losses, run.batch_loss, rtol=1e-10)
    np.testing.assert_allclose(weights, run.params[-1], rtol=1e-10, atol=1e-12)


def test_the_pytorch_check_would_see_the_other_convention():
    # With decay, Keras's velocity and PyTorch's buffer part (docs/semantics.md §0).
    network = MLP(hidden=5)
    x, y = data(1, n=45)
    init = network.init_params(1, seed=2)
    keras_convention = gd.fit(
        network, x, y, OPTIMIZERS["decay"], gd.Training(epochs=3, init=init), batch_size=7
    )
    _, weights = torch_run(network, x, y, OPTIMIZERS["decay"], init, keras_convention)
    assert np.abs(weights - keras_convention.params[-1]).max() > 1e-6
