"""Planes through parameter space: a 2-D slice of the loss for a model with many parameters.

A model with two parameters has its whole loss surface on one contour plot. A network with 49
does not, so the contour view becomes a *slice*: the loss on the plane ``origin + α·u + β·v``
spanned by two orthonormal directions u, v (the rows of ``Plane.axes``), and the run drawn as
its projection (α, β) onto that plane. Two planes are offered:

* ``Plane.principal(path)``: the top two principal directions of the path's movement, as in
  Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets" (§7): with the origin at the
  path's last point θ_K, the SVD of the (K, P) matrix of rows ``θ_k − θ_K`` gives the two
  directions along which the path moves most, and the share of its squared distance from the
  origin that each one holds (``explained``).
* ``Plane.through(start, end, best)``: the plane through three points, with the origin at the
  start and the axes from Gram–Schmidt on ``end − start`` and ``best − start``.

Sign and fill conventions, so that the same path always gives the same picture:

1. A principal axis points so that the path's *start* has a positive coordinate on it: the run
   comes in from the upper right and ends at the origin. If the start lies on the axis' zero line
   (within 0.1 % of the path's extent along it), the farthest point of the path decides instead.
2. A ``through`` axis points so that the end (axis 0), then the best point (axis 1), have
   positive coordinates: Gram–Schmidt does that by construction.
3. A direction the points cannot supply (a straight-line path has one, a path that never moves
   has none) is filled with the coordinate axis least aligned with the axes already chosen
   (``params[0]``, then ``params[1]`` when there are none), made orthogonal to them and pointing
   along its own parameter. ``Plane.filled`` lists those parameters and ``description`` says so.

With P = 2 a plane is all of parameter space: the projection is exact and ``loss_on_plane`` is
``Model.loss_grid`` in rotated coordinates. P = 1 has no plane and is refused.

Example:
    >>> import numpy as np
    >>> path = np.array([[2.0, 2.0, 1.0], [1.0, 0.5, 1.0], [0.0, 0.0, 1.0]])  # (K, P) = (3, 3)
    >>> plane = Plane.principal(path)
    >>> plane
    Plane(principal, P=3, explained=(0.99, 0.01), filled=())
    >>> plane.description
    'Slice through the top two principal directions of the path (99 % and 1 % of its movement)'
    >>> bool(np.all(plane.project(path[0]) > 0)), plane.project(path[-1]).tolist()
    (True, [0.0, 0.0])
    >>> float(plane.residual(path).max()) < 1e-12           # this path lies in its plane
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from gd.models import Model
from gd.validation import check_data, check_int, check_real, check_reals, check_vector

Kind = Literal["principal", "start-end-best"]
KINDS: tuple[str, ...] = ("principal", "start-end-best")

# Singular values (or Gram–Schmidt remainders) at or below this share of the largest count as
# zero: a straight-line path computed in floating point still wobbles off its line by ~1e-16.
_RELATIVE_TOL = 1e-9
# ... and so does anything below this many units in the last place of the coordinates: a path
# that moves by a few rounding errors has not moved.
_ULPS = 64
# The start orients an axis unless it lies within this share of the path's extent of the zero
# line, where a rounding error could flip it (convention 1 in the module docstring).
_START_SHARE = 1e-3
# Parameter vectors of one ``loss_on_plane`` chunk hold at most this many numbers: 8 MB a
# (chunk, P) array, a few such alive at once, well under 50 MB with the model's own temporaries.
_CHUNK_ELEMENTS = 1_000_000
_EMPTY_HALF_WIDTH = 1.0  # ``window`` around a path that never moved: the unit square


@dataclass(frozen=True, eq=False, repr=False)
class Plane:
    """The plane ``origin + α·axes[0] + β·axes[1]`` through parameter space.

    Math: with U = ``axes`` (2, P), orthonormal rows (U Uᵀ = I),
        project(θ) = U (θ − origin),   lift(α, β) = origin + αu + βv,
        residual(θ) = |θ − origin − Uᵀ U (θ − origin)|, the distance from θ to the plane.

    Attributes:
        origin: (P,) the point at coordinates (0, 0).
        axes: (2, P) orthonormal rows u and v: coordinate α runs along u, β along v.
        kind: "principal" (``Plane.principal``) or "start-end-best" (``Plane.through``).
        explained: for "principal", the share of the path's squared distance from the origin
            along each axis (sorted, summing to at most 1); None for "start-end-best".
        filled: parameter indices whose coordinate axes filled directions the points could not
            supply (empty when the points span a plane).

    Example:
        >>> plane = Plane(np.zeros(3), np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
        ...               "start-end-best")
        >>> plane.lift(2.0, 3.0)
        array([2., 0., 3.])
        >>> point = np.array([2.0, 5.0, 3.0])
        >>> plane.project(point), float(plane.residual(point))    # 5 off the plane, along y
        (array([2., 3.]), 5.0)
    """

    origin: np.ndarray  # (P,)
    axes: np.ndarray  # (2, P)
    kind: Kind
    explained: tuple[float, float] | None = None
    filled: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        origin = check_reals("origin", self.origin)
        axes = check_reals("axes", self.axes)
        if origin.ndim != 1 or origin.size < 2 or not np.all(np.isfinite(origin)):
            raise ValueError(
                "The 'origin' parameter must be a finite vector of P >= 2 parameters. "
                f"Got shape {origin.shape} instead."
            )
        if axes.shape != (2, origin.size) or not np.all(np.isfinite(axes)):
            raise ValueError(
                f"The 'axes' parameter must be a finite array of shape (2, {origin.size}), "
                f"two directions in the origin's space. Got shape {axes.shape} instead."
            )
        gram = axes @ axes.T  # (2, 2)
        if not np.allclose(gram, np.eye(2), rtol=0.0, atol=1e-9):
            raise ValueError(
                "The 'axes' parameter must have orthonormal rows (axes @ axes.T == I). "
                f"Got axes @ axes.T = {np.round(gram, 6).tolist()} instead."
            )
        if self.kind not in KINDS:
            raise ValueError(
                f"The 'kind' parameter must be one of {', '.join(map(repr, KINDS))}. "
                f"Got {self.kind!r} instead."
            )
        for name, value in (("origin", origin), ("axes", axes)):
            value = value + 0.0  # a copy, with no −0.0 to print
            value.flags.writeable = False  # a frozen record: its arrays do not change either
            object.__setattr__(self, name, value)

    # ---- building a plane -------------------------------------------------------------------

    @classmethod
    def principal(cls, path: np.ndarray, *, origin: np.ndarray | None = None) -> Plane:
        """The plane of the path's top two principal directions (Li et al. 2018, §7).

        Math: with D the (K, P) rows ``θ_k − origin`` and D = S Σ Vᵀ its SVD (σ₁ ≥ σ₂ ≥ ...),
        the axes are the first two rows of Vᵀ and ``explained`` is σᵢ² / Σⱼ σⱼ², the share of
        Σ_k |θ_k − origin|² along each axis. Directions are counted only above
        ``_RELATIVE_TOL``·σ₁ (and rounding noise); missing ones are filled (see the module
        docstring), and every axis is oriented so that the start has a positive coordinate.

        Args:
            path: (K, P) parameter vectors in order (``Run.params``), K >= 1, P >= 2, finite:
                cut a diverged run at ``Run.diverged_at``.
            origin: (P,) the point at (0, 0); by default the path's last point, as Li et al.

        Returns:
            The ``Plane``, kind "principal".

        Example:
            >>> line = np.array([[3.0, 0.0, 4.0], [1.5, 0.0, 2.0], [0.0, 0.0, 0.0]])  # straight
            >>> plane = Plane.principal(line)
            >>> plane.axes
            array([[0.6, 0. , 0.8],
                   [0. , 1. , 0. ]])
            >>> plane.filled
            (1,)
            >>> print(plane.describe(("w1", "w2", "b")))  # doctest: +NORMALIZE_WHITESPACE
            Slice through the path's one direction of movement (100 % of it) and the direction
            of w2 across it, as the path is a straight line
        """
        path = _points("path", path)
        if path.ndim != 2 or path.shape[0] < 1 or path.shape[1] < 2:
            raise ValueError(
                "The 'path' parameter must have shape (K, P) with K >= 1 points of P >= 2 "
                "parameters (a plane needs two directions). "
                f"Got shape {path.shape} instead."
            )
        n_params = path.shape[1]
        origin = path[-1] if origin is None else _vector("origin", origin, n_params)
        moved = path - origin  # (K, P)
        extent = float(np.abs(moved).max())
        # Divided by its largest entry, nothing in the SVD or the squares below can overflow.
        unit = moved / extent if extent > 0 else moved  # (K, P), entries in [-1, 1]
        scale = max(np.abs(path).max(), np.abs(origin).max()) / (extent or 1.0)
        reduced = unit
        if unit.shape[0] > n_params:  # the SVD of R from D = QR has D's σ and Vᵀ, in (P, P)
            reduced = np.linalg.qr(unit, mode="r")
        _, sigma, vt = np.linalg.svd(reduced, full_matrices=False)  # (r,), (r, P)
        tol = _tolerance(sigma[0], scale, unit.size)
        found = [vt[i] for i in range(min(2, sigma.size)) if sigma[i] > tol]
        axes, filled = _complete(found, n_params)  # (2, P)
        coordinates = unit @ axes.T  # (K, 2)
        for i in range(2):
            if _orientation(axes[i], coordinates[:, i], tol) < 0:
                axes[i] = -axes[i]
        total = float(np.sum(unit**2))
        if total == 0.0:
            explained = (0.0, 0.0)
        else:
            shares = np.sum(coordinates**2, axis=0) / total  # (2,)
            first = min(float(shares[0]), 1.0)
            explained = (first, min(float(shares[1]), 1.0 - first))  # rounding never tops 1
        return cls(origin, axes, "principal", explained, filled)

    @classmethod
    def through(cls, start: np.ndarray, end: np.ndarray, best: np.ndarray) -> Plane:
        """The plane through a run's start, its end and the best point (e.g. the minimum).

        Math: origin = start; u = (end − start)/|end − start|; v = the part of best − start
        orthogonal to u, normalised (Gram–Schmidt). So start is (0, 0), end is (|end − start|,
        0) and best has β >= 0. A vector that adds no new direction (end = start, or best on
        the line through the others) is skipped, and the missing axes are filled (see the
        module docstring).

        Args:
            start, end, best: (P,) parameter vectors, P >= 2, finite.

        Returns:
            The ``Plane``, kind "start-end-best".

        Example:
            >>> plane = Plane.through(np.array([0.0, 0.0, 1.0]), np.array([2.0, 0.0, 1.0]),
            ...                       np.array([1.0, 3.0, 1.0]))
            >>> plane.axes
            array([[1., 0., 0.],
                   [0., 1., 0.]])
            >>> plane.project(np.array([1.0, 3.0, 1.0])), plane.description
            (array([1., 3.]), 'Slice through the start, the end and the best point')
        """
        start = _points("start", start)
        if start.ndim != 1 or start.size < 2:
            raise ValueError(
                "The 'start' parameter must be a vector of P >= 2 parameters (a plane needs two "
                f"directions). Got shape {start.shape} instead."
            )
        n_params = start.size
        start = _vector("start", start, n_params)
        end = _vector("end", end, n_params)
        best = _vector("best", best, n_params)
        moves = np.array([end - start, best - start])  # (2, P), in the order that fixes signs
        extent = float(np.abs(moves).max())
        moves = moves / extent if extent > 0 else moves  # as in ``principal``: no overflow
        scale = max(np.abs(start).max(), np.abs(end).max(), np.abs(best).max()) / (extent or 1.0)
        tol = _tolerance(float(np.linalg.norm(moves, axis=1).max()), scale, n_params)
        found: list[np.ndarray] = []
        for move in moves:
            remainder = _orthogonal(move, found)  # (P,)
            norm = float(np.linalg.norm(remainder))
            if norm > tol:
                found.append(remainder / norm)  # points toward ``move``: its coordinate > 0
        axes, filled = _complete(found, n_params)
        return cls(start, axes, "start-end-best", None, filled)

    # ---- coordinates ------------------------------------------------------------------------

    @property
    def basis(self) -> np.ndarray:
        """(3, P): [origin, u, v], as ``Model.plane_losses`` takes a plane."""
        return np.vstack([self.origin, self.axes])

    @property
    def n_params(self) -> int:
        """P, the dimension of the parameter space the plane lies in."""
        return self.origin.size

    def project(self, points: np.ndarray) -> np.ndarray:
        """Coordinates (α, β) of the points' orthogonal projections: (..., P) -> (..., 2).

        A row with NaN or inf (a blown-up run's tail) projects to NaN or inf, without a warning.

        Example:
            >>> plane = Plane.through(np.zeros(2), np.array([0.0, 2.0]), np.array([1.0, 1.0]))
            >>> plane.project(np.array([[0.0, 2.0], [1.0, 1.0]]))   # end (2, 0), best (1, 1)
            array([[2., 0.],
                   [1., 1.]])
        """
        points = self._check_points(points)
        with np.errstate(invalid="ignore", over="ignore"):
            return (points - self.origin) @ self.axes.T  # (..., 2)

    def lift(self, alpha: np.ndarray | float, beta: np.ndarray | float) -> np.ndarray:
        """The parameter vectors at coordinates (α, β), broadcast together: (...) -> (..., P).

        Example:
            >>> plane = Plane.through(np.zeros(2), np.array([0.0, 2.0]), np.array([1.0, 1.0]))
            >>> plane.lift(np.array([1.0, 2.0]), 0.5)             # (2,) -> (2, P)
            array([[0.5, 1. ],
                   [0.5, 2. ]])
        """
        alpha, beta = np.broadcast_arrays(
            _points("alpha", alpha), _points("beta", beta)
        )  # (...) each
        return (
            self.origin + alpha[..., None] * self.axes[0] + beta[..., None] * self.axes[1]
        )  # (..., P)

    def points(self, axis0: np.ndarray, axis1: np.ndarray) -> np.ndarray:
        """The grid of parameter vectors: (g0,), (g1,) -> (g1, g0, P), as ``Model.loss_grid``.

        Row i is ``axis1[i]`` (β), column j is ``axis0[j]`` (α), so a grid of losses over it
        is what Plotly's ``go.Contour(x=axis0, y=axis1, z=...)`` expects.

        Example:
            >>> plane = Plane.principal(np.array([[1.0, 1.0], [0.0, 0.0]]))
            >>> plane.points(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0])).shape
            (2, 3, 2)
        """
        axis0, axis1 = _axis("axis0", axis0), _axis("axis1", axis1)
        return self.lift(axis0[None, :], axis1[:, None])  # (g1, g0, P)

    def residual(self, points: np.ndarray) -> np.ndarray:
        """Distance from each point to the plane: (..., P) -> (...); 0 on the plane.

        A chart can say how far a path leaves the slice: its loss is drawn at the projection,
        which is the true point only where the residual is 0.

        Example:
            >>> plane = Plane.through(np.zeros(3), np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))
            >>> plane.residual(np.array([[3.0, 4.0, 0.0], [0.0, 0.0, -2.0]]))
            array([0., 2.])
        """
        points = self._check_points(points)
        with np.errstate(invalid="ignore", over="ignore"):
            moved = points - self.origin  # (..., P)
            off = moved - (moved @ self.axes.T) @ self.axes  # (..., P)
            return np.linalg.norm(off, axis=-1)  # (...)

    # ---- words ------------------------------------------------------------------------------

    @property
    def description(self) -> str:
        """One line a chart can show verbatim, parameters named ``params[i]``
        (``describe(names)`` names them)."""
        return self.describe()

    def describe(self, names: Sequence[str] | None = None) -> str:
        """What this plane is, in one line, naming filled parameters by ``names`` (P,).

        Example:
            >>> Plane.principal(np.array([[1.0, 2.0], [1.0, 2.0]])).describe(("w", "b"))
            'Slice along w and b through the path, as the path does not move'
        """
        if names is not None and len(names) != self.n_params:
            raise ValueError(
                f"The 'names' parameter must name all {self.n_params} parameters. "
                f"Got {len(names)} names instead."
            )
        filled = [names[i] if names is not None else f"params[{i}]" for i in self.filled]
        if self.kind == "principal":
            first, second = (_percent(share) for share in self.explained or (0.0, 0.0))
            if not filled:
                return (
                    "Slice through the top two principal directions of the path "
                    f"({first} and {second} of its movement)"
                )
            if len(filled) == 1:
                return (
                    f"Slice through the path's one direction of movement ({first} of it) and the "
                    f"direction of {filled[0]} across it, as the path is a straight line"
                )
            return (
                f"Slice along {filled[0]} and {filled[1]} through the path, as the path does not "
                "move"
            )
        if not filled:
            return "Slice through the start, the end and the best point"
        if len(filled) == 1:
            return (
                "Slice through the start, the end and the best point, which lie on one line, "
                f"and along the direction of {filled[0]} across it"
            )
        return (
            f"Slice along {filled[0]} and {filled[1]} through the start, which the end and the "
            "best point coincide with"
        )

    def __repr__(self) -> str:
        explained = (
            ""
            if self.explained is None
            else f", explained=({self.explained[0]:.2f}, {self.explained[1]:.2f})"
        )
        return f"Plane({self.kind}, P={self.n_params}{explained}, filled={self.filled})"

    def _check_points(self, points: np.ndarray) -> np.ndarray:
        points = check_reals("points", points)  # NaN and inf pass: see ``project``
        if points.ndim < 1 or points.shape[-1] != self.n_params:
            raise ValueError(
                f"The 'points' parameter must have shape (..., {self.n_params}), one value per "
                f"parameter of the plane. Got shape {points.shape} instead."
            )
        return points


@dataclass(frozen=True)
class Window:
    """The coordinate ranges a chart of a plane shows: α in ``axis0``, β in ``axis1``.

    Example:
        >>> axis0, axis1 = Window((-1.0, 1.0), (0.0, 2.0)).grid(3, 2)
        >>> axis0, axis1
        (array([-1.,  0.,  1.]), array([0., 2.]))
    """

    axis0: tuple[float, float]  # (low, high) of α
    axis1: tuple[float, float]  # (low, high) of β

    def grid(self, g0: int, g1: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Evenly spaced coordinates: axis0 (g0,) and axis1 (g1,), g1 = g0 by default."""
        g0 = check_int("g0", g0)
        g1 = g0 if g1 is None else check_int("g1", g1)
        return np.linspace(*self.axis0, g0), np.linspace(*self.axis1, g1)


def window(plane: Plane, paths: np.ndarray | Sequence[np.ndarray], margin: float = 0.2) -> Window:
    """Coordinate ranges that hold every path projected on ``plane``, and its origin, with room.

    Made for a family of runs drawn on ONE plane (the stage keeps one plane while a knob is
    dragged, so the runs are comparable): one window holds them all, and it stays put from one
    frame to the next.

    Math: with [lo_a, hi_a] the range of the projected points along axis a (the origin
    included) and s the larger of the two spans, each range grows by margin·s on both sides:
    the same padding in both directions, so a straight path still gets a band across it. Points
    that never moved give the square of half-width 1 around the origin.

    Args:
        plane: the plane the paths are drawn on.
        paths: one path (K, P), a stack (R, K, P) such as ``Family.params``, or a list of
            (K_r, P) arrays. Rows with NaN or inf (a blown-up run's tail) are left out; pass
            the runs that did not diverge if one that did would stretch the window.
        margin: padding on each side as a share of the larger span, > 0.

    Returns:
        The ``Window``.

    Example:
        >>> plane = Plane.through(np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0]))
        >>> window(plane, [np.array([[0.0, 0.0], [2.0, 1.0]])], margin=0.5)
        Window(axis0=(-1.0, 3.0), axis1=(-1.0, 2.0))
    """
    margin = check_real("margin", margin, low=0.0, strict=True)
    if isinstance(paths, np.ndarray) and paths.ndim == 2:
        paths = [paths]
    low = np.zeros(2)  # the origin is always inside
    high = np.zeros(2)
    for path in paths:
        coordinates = plane.project(path).reshape(-1, 2)  # (K, 2)
        coordinates = coordinates[np.all(np.isfinite(coordinates), axis=1)]
        if coordinates.size:
            low = np.minimum(low, coordinates.min(axis=0))
            high = np.maximum(high, coordinates.max(axis=0))
    span = float(np.max(high - low))
    pad = margin * span if span > 0 else _EMPTY_HALF_WIDTH
    return Window(
        (float(low[0] - pad), float(high[0] + pad)), (float(low[1] - pad), float(high[1] + pad))
    )


def loss_on_plane(
    model: Model,
    x: np.ndarray,
    y: np.ndarray,
    plane: Plane,
    axis0: np.ndarray,
    axis1: np.ndarray,
) -> np.ndarray:
    """The full-data loss over a grid of the plane, oriented as ``Model.loss_grid``.

    Math: Z[i, j] = L(origin + axis0[j]·u + axis1[i]·v), the batch-mean loss over all rows.
    The grid is scored by ``model.plane_losses`` (the network's compiled kernel when
    ``gd.engine`` has it, to within 3e-7; else exactly ``model.losses``) in blocks of at most
    ``_CHUNK_ELEMENTS // P`` cells, so a fine grid of a large model never holds its whole
    (g1·g0, P) array of parameter vectors; the model chunks its own (points, rows) work.

    Args:
        model: a ``gd.models`` model.
        x, y: the data, (n,) or (n, k), and (n,).
        plane: a plane in this model's parameter space (P = ``len(model.param_names(k))``).
        axis0: α values, (g0,).
        axis1: β values, (g1,).

    Returns:
        Array (g1, g0): row i is ``axis1[i]``, column j is ``axis0[j]``, as Plotly's
        ``go.Contour(x=axis0, y=axis1, z=...)`` expects. A loss too large for float64 is inf
        (or NaN), without a warning, for the chart to mask.

    Example:
        >>> from gd.models import LinearRegression
        >>> x = np.array([[0.0], [1.0]]); y = np.array([1.0, 3.0])     # y = 2x + 1
        >>> start, end, best = np.array([2.0, 1.0]), np.array([3.0, 1.0]), np.array([2.0, 2.0])
        >>> plane = Plane.through(start, end, best)     # from the fit (w, b) = (2, 1)
        >>> plane.axes                                  # α moves w, β moves b
        array([[1., 0.],
               [0., 1.]])
        >>> axis0, axis1 = np.array([-1.0, 0.0]), np.array([0.0, 1.0])
        >>> loss_on_plane(LinearRegression(), x, y, plane, axis0, axis1).round(12)  # (g1, g0)
        array([[0.5, 0. ],
               [0.5, 1. ]])
    """
    x, y = check_data(x, y)
    model.check_features(x.shape[1])
    n_params = len(model.param_names(x.shape[1]))
    if plane.n_params != n_params:
        raise ValueError(
            f"The plane lies in a space of {plane.n_params} parameters, but {model.name} with "
            f"{x.shape[1]} feature(s) has {n_params}; build the plane from this model's runs."
        )
    axis0, axis1 = _axis("axis0", axis0), _axis("axis1", axis1)
    g0, g1 = axis0.size, axis1.size
    cells = max(1, _CHUNK_ELEMENTS // n_params)  # parameter vectors one block may hold
    width = min(g0, cells)  # α values a block takes: the whole grid row when it fits
    rows = max(1, cells // g0)  # β values a block takes: as many whole rows as fit
    basis = plane.basis  # (3, P)
    surface = np.empty((g1, g0))
    with np.errstate(over="ignore", invalid="ignore"):  # far out, a loss may overflow
        for i in range(0, g1, rows):
            for j in range(0, g0, width):
                surface[i : i + rows, j : j + width] = model.plane_losses(
                    x, y, basis, axis0[j : j + width], axis1[i : i + rows]
                )  # (rows, width) at most
    return surface


# ---- helpers --------------------------------------------------------------------------------


def _points(name: str, values: object) -> np.ndarray:
    """Real, finite float64 values of any shape, or the message that says what to change."""
    values = check_reals(name, values)
    if not np.all(np.isfinite(values)):
        bad = values[~np.isfinite(values)][0]
        raise ValueError(
            f"The '{name}' parameter must hold finite numbers (cut a diverged run at its "
            f"diverged_at). Got {float(bad)!r} instead."
        )
    return values


def _vector(name: str, values: object, n_params: int) -> np.ndarray:
    return _points(name, check_vector(name, values, n_params))


def _axis(name: str, values: object) -> np.ndarray:
    axis = _points(name, values)
    if axis.ndim != 1 or axis.size == 0:
        raise ValueError(
            f"The '{name}' parameter must be a non-empty 1-D array of coordinates. "
            f"Got shape {axis.shape} instead."
        )
    return axis


def _tolerance(largest: float, scale: float, count: int) -> float:
    """Singular values or remainders at or below this are zero: a share of the largest one, or
    rounding noise of ``count`` coordinates of magnitude ``scale``."""
    return max(_RELATIVE_TOL * largest, _ULPS * np.finfo(np.float64).eps * scale * math.sqrt(count))


def _orthogonal(vector: np.ndarray, basis: list[np.ndarray]) -> np.ndarray:
    """``vector`` minus its components along the orthonormal ``basis``, twice (Gram–Schmidt
    needs the second pass to stay orthogonal to working precision)."""
    for _ in range(2):
        for axis in basis:
            vector = vector - (vector @ axis) * axis
    return vector


def _complete(found: list[np.ndarray], n_params: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """Two orthonormal axes (2, P): ``found`` (0, 1 or 2 of them), then coordinate axes.

    Each missing axis is the coordinate axis e_i least aligned with those already chosen
    (smallest Σ_k u_k[i]², the first such i on a tie), made orthogonal to them; the largest
    entry of the result is positive.
    """
    axes = list(found)
    filled: list[int] = []
    while len(axes) < 2:
        aligned = sum((axis**2 for axis in axes), np.zeros(n_params))  # (P,)
        aligned[filled] = np.inf  # never the same coordinate twice
        index = int(np.argmin(aligned))
        direction = _orthogonal(np.eye(n_params)[index], axes)  # (P,), norm >= 1/√2
        direction /= np.linalg.norm(direction)
        axes.append(direction if direction[np.argmax(np.abs(direction))] > 0 else -direction)
        filled.append(index)
    return np.array(axes), tuple(filled)


def _orientation(axis: np.ndarray, coordinates: np.ndarray, tol: float) -> float:
    """+1 or −1: the sign that puts the path's start (else its farthest point) on the positive
    side of ``axis``; a filled axis (the path has no extent along it) keeps its sign."""
    extent = float(np.max(np.abs(coordinates)))
    if extent <= tol:
        return 1.0
    start = float(coordinates[0])
    if abs(start) > max(tol, _START_SHARE * extent):
        return math.copysign(1.0, start)
    return math.copysign(1.0, float(coordinates[np.argmax(np.abs(coordinates))]))


def _percent(share: float) -> str:
    """A share as the chart writes it: "84 %", and "under 1 %" or "over 99 %" rather than a
    rounded "0 %" or "100 %" that is not exact (within rounding noise, it is)."""
    if share <= _RELATIVE_TOL or share >= 1.0 - _RELATIVE_TOL:
        return f"{100 * round(share):.0f} %"
    if share < 0.005:
        return "under 1 %"
    if share >= 0.995:
        return "over 99 %"
    return f"{100 * share:.0f} %"
