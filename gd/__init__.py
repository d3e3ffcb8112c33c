"""gd: mini-batch SGD exactly as Keras (or PyTorch) computes it, in NumPy with a numba fast path.

Example:
    >>> import gd
    >>> data = gd.datasets.linear(n=200, seed=0)
    >>> run = gd.fit(gd.models.LinearRegression(), data.x, data.y, gd.SGD(learning_rate=0.1),
    ...              gd.Training(epochs=5), batch_size=32)
    >>> run.updates_per_epoch                     # ceil(200 / 32): the last batch has 8 rows
    7
"""

from gd import datasets, models, plane, sharpness
from gd.critical import CriticalBatch, NoiseScale, critical_batch, noise_scale
from gd.datasets import DataError, Dataset
from gd.family import Family, family, scored_points
from gd.fit import Run, Training, fit
from gd.hogwild import fit_async
from gd.optim import SGD
from gd.plane import Plane, Window, loss_on_plane, window
from gd.sharpness import Sharpness, edge_of_stability, hessian_vector, top_eigenvalue
from gd.sweep import Sweep, heavy_ball_bound, lambda_max, stability_bound, sweep

__all__ = [
    "SGD",
    "CriticalBatch",
    "DataError",
    "Dataset",
    "Family",
    "NoiseScale",
    "Plane",
    "Run",
    "Sharpness",
    "Sweep",
    "Training",
    "Window",
    "critical_batch",
    "datasets",
    "edge_of_stability",
    "family",
    "fit",
    "fit_async",
    "heavy_ball_bound",
    "hessian_vector",
    "lambda_max",
    "loss_on_plane",
    "models",
    "noise_scale",
    "plane",
    "scored_points",
    "sharpness",
    "stability_bound",
    "sweep",
    "top_eigenvalue",
    "window",
]
