"""gd.plane: 2-D slices through parameter space, checked against the models' own surfaces and a
plain loop of ``Model.loss``.

The trusted references: ``Model.loss_grid`` (TanhNeuron's closed form, LinearRegression's
sufficient statistics) for P = 2, where a plane is all of parameter space; ``Model.loss`` one
point at a time for P > 2; and geometry that holds by construction (a path built inside a plane
lies in its principal plane, a rotated path gives the rotated plane)."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gd
import gd.engine
from gd import plane as plane_module
from gd.models import LinearRegression, LogisticRegression, TanhNeuron
from gd.plane import Plane, Window, loss_on_plane, window
from gd.validation import check_data

TIGHT = 1e-10


def random_path(
    seed: int, k: int, p: int, rank: int, offset: float = 1.0, size: float = 1.0
) -> np.ndarray:
    """(K, P) points θ_K + C B: B (rank, P) random directions of length ~``size``, so the rows
    − θ_K span at most ``rank`` dimensions (up to rounding, which grows with ``offset``)."""
    rng = np.random.default_rng(seed)
    end = offset * rng.normal(size=p)  # (P,)
    basis = size * rng.normal(size=(rank, p))  # (r, P)
    coefficients = rng.normal(size=(k, rank))  # (K, r)
    coefficients[-1] = 0.0  # the path ends at ``end``
    return end + coefficients @ basis  # (K, P)


def random_rotation(seed: int, p: int) -> np.ndarray:
    """A random orthogonal (P, P) matrix, reflections included."""
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(p, p)))
    return q * np.sign(np.diag(r))


def projector(axes: np.ndarray) -> np.ndarray:
    """(P, P) orthogonal projector onto the span of the rows of ``axes``."""
    q, _ = np.linalg.qr(axes.T)
    return q @ q.T


paths = st.builds(
    random_path,
    seed=st.integers(0, 10_000),
    k=st.integers(1, 9),
    p=st.integers(2, 7),
    rank=st.integers(0, 3),
    offset=st.sampled_from([0.0, 1.0, 1e3]),
)


# ---- Plane.principal: geometry ----------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(path=paths, a=st.floats(-1e3, 1e3), b=st.floats(-1e3, 1e3))
def test_axes_are_orthonormal_and_project_undoes_lift(path, a, b):
    plane = Plane.principal(path)
    assert plane.axes.shape == (2, path.shape[1])
    np.testing.assert_allclose(plane.axes @ plane.axes.T, np.eye(2), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(plane.origin, path[-1])  # Li et al.: the end is (0, 0)
    np.testing.assert_allclose(plane.project(plane.lift(a, b)), [a, b], rtol=1e-12, atol=1e-9)
    assert plane.residual(plane.lift(a, b)) <= 1e-9 * max(1.0, abs(a), abs(b), *np.abs(path[-1]))


@settings(max_examples=150, deadline=None)
@given(path=paths)
def test_explained_shares_are_sorted_and_sum_to_at_most_one(path):
    first, second = Plane.principal(path).explained
    assert 0.0 <= second <= first <= 1.0
    assert first + second <= 1.0


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(3, 12), p=st.integers(2, 8))
def test_a_path_inside_a_plane_lies_in_its_principal_plane(seed, k, p):
    path = random_path(seed, k, p, rank=2)  # K >= 3 generic points: exactly a plane
    plane = Plane.principal(path)
    size = np.abs(path).max()
    assert plane.residual(path).max() <= 1e-10 * size
    assert plane.filled == ()
    assert sum(plane.explained) == pytest.approx(1.0, abs=1e-12)  # all movement is in the plane
    # The same plane as the one the path was built in: equal orthogonal projectors.
    built = np.linalg.qr((path[:-1] - path[-1]).T)[0][:, :2]  # (P, 2) a basis of the movement
    np.testing.assert_allclose(projector(plane.axes), built @ built.T, atol=1e-9)
    # ... and a point of that plane off the path has no residual either.
    inside = path[-1] + 2.5 * (path[0] - path[-1]) - 1.5 * (path[1] - path[-1])
    assert plane.residual(inside) <= 1e-10 * max(1.0, np.abs(inside).max())


def test_a_path_off_its_plane_has_the_residual_of_its_third_direction():
    path = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.0], [2.0, 0.5, 0.25], [0.0, 0.0, 0.0]])
    plane = Plane.principal(path)
    assert plane.residual(path).max() > 0.05  # the third point leaves the x-y plane a little
    normal = np.cross(*plane.axes)  # (3,) unit normal to the plane
    expected = np.abs((path - plane.origin) @ normal)
    np.testing.assert_allclose(plane.residual(path), expected, atol=1e-12)
    first, second = plane.explained
    assert first + second < 1.0
    assert first + second == pytest.approx(1.0 - np.sum(expected**2) / np.sum(path**2), abs=1e-12)


def test_the_shares_are_the_squared_singular_values_of_the_moves():
    path = random_path(7, 20, 5, rank=4)
    sigma = np.linalg.svd(path - path[-1], compute_uv=False)
    plane = Plane.principal(path)
    np.testing.assert_allclose(plane.explained, sigma[:2] ** 2 / np.sum(sigma**2), rtol=1e-10)
    assert plane.description == (
        "Slice through the top two principal directions of the path "
        f"({100 * plane.explained[0]:.0f} % and {100 * plane.explained[1]:.0f} % of its movement)"
    )


def test_an_origin_off_the_path_is_kept_and_its_offset_is_a_direction():
    path = np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [3.0, 0.0, 0.0]])  # a straight line ...
    plane = Plane.principal(path, origin=np.array([0.0, 1.0, 0.0]))  # ... seen from off it
    np.testing.assert_array_equal(plane.origin, [0.0, 1.0, 0.0])
    assert plane.filled == ()  # the offset is the second direction: the plane holds the path
    assert plane.residual(path).max() < 1e-12
    np.testing.assert_allclose(plane.project(np.array([0.0, 1.0, 0.0])), [0.0, 0.0])


# ---- Plane.principal: signs, so a re-run gives the same picture -------------------------------


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(3, 12), p=st.integers(2, 7))
def test_signs_follow_the_path_under_any_rotation(seed, k, p):
    path = random_path(seed, k, p, rank=min(p, 3))
    rotation = random_rotation(seed + 1, p)  # (P, P)
    plane = Plane.principal(path)
    turned = Plane.principal(path @ rotation)
    # SVD alone may flip either axis; the sign convention turns the picture with the path.
    np.testing.assert_allclose(turned.axes, plane.axes @ rotation, atol=1e-8)
    np.testing.assert_allclose(turned.project(path @ rotation), plane.project(path), atol=1e-8)
    start = plane.project(path[0])
    extent = np.abs(plane.project(path)).max(axis=0)  # (2,)
    for i in range(2):  # the start is on the positive side unless it is on the zero line
        assert start[i] > 0 or abs(start[i]) <= 1e-3 * extent[i] + 1e-12


def test_the_same_path_gives_the_same_plane_bit_for_bit_and_noise_does_not_flip_it():
    path = random_path(3, 40, 6, rank=6)
    first, again = Plane.principal(path), Plane.principal(path.copy(order="F"))
    np.testing.assert_array_equal(first.axes, again.axes)
    noisy = Plane.principal(path + 1e-13 * np.random.default_rng(0).normal(size=path.shape))
    np.testing.assert_allclose(noisy.axes, first.axes, atol=1e-9)
    assert np.all(first.project(path[0]) > 0)  # the run comes in from the upper right


def test_a_mirrored_path_gives_the_mirrored_axes():
    path = random_path(11, 10, 4, rank=3)
    np.testing.assert_allclose(Plane.principal(-path).axes, -Plane.principal(path).axes, atol=1e-12)


# ---- degenerate paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "filled", "words"),
    [
        # one point: no movement; the plane of parameters 0 and 1, as Model.loss_grid draws
        (np.array([[1.0, 2.0, 3.0]]), (0, 1), "Slice along params[0] and params[1] through"),
        (np.full((5, 3), 7.0), (0, 1), "as the path does not move"),
        # two points and a straight line: one direction, then the least aligned parameter
        (np.array([[0.0, 4.0, 3.0], [0.0, 0.0, 0.0]]), (0,), "as the path is a straight line"),
        (np.linspace([1e3, 0.1, -7.3], [1e3 + 1 / 3, 0.1 - 2 / 7, -7.3], 50), (2,), "(100 %"),
        # P = 2: the plane is all of parameter space, whatever the path
        (np.array([[1.0, 1.0], [0.0, 0.0]]), (0,), "the direction of params[0] across it"),
        (np.array([[3.0, -1.0]]), (0, 1), "through the path, as the path does not move"),
    ],
)
def test_degenerate_paths_get_a_filled_plane_and_say_so(path, filled, words):
    plane = Plane.principal(path)
    assert plane.filled == filled
    assert words in plane.description
    np.testing.assert_allclose(plane.axes @ plane.axes.T, np.eye(2), atol=1e-12)
    assert plane.residual(path).max() <= 1e-12 * np.abs(path).max()  # the path is in it


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(1, 30),
    p=st.integers(2, 7),
    rank=st.integers(0, 1),
    offset=st.sampled_from([0.0, 1.0, 1e3]),
    size=st.sampled_from([1.0, 1e-6]),
)
def test_rounding_noise_is_not_a_direction(seed, k, p, rank, offset, size):
    path = random_path(seed, k, p, rank, offset, size)  # a point or a line, up to rounding
    plane = Plane.principal(path)
    moved = k > 1 and rank == 1
    assert len(plane.filled) == (1 if moved else 2)
    assert plane.description.endswith(
        "as the path is a straight line" if moved else "as the path does not move"
    )
    assert plane.explained == pytest.approx((1.0, 0.0) if moved else (0.0, 0.0), abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_a_small_real_movement_far_from_zero_is_still_a_plane(seed):
    path = random_path(seed, 10, 5, rank=2, offset=1e3, size=1e-6)  # 1e4 ulps of 1e3
    plane = Plane.principal(path)
    assert plane.filled == ()
    assert plane.residual(path).max() < 1e-12


def test_a_missing_direction_is_the_coordinate_least_aligned_with_the_first():
    line = np.array([[4.0, 3.0, 0.5, 0.0], [0.0, 0.0, 0.0, 0.0]])  # moves least in parameter 3
    plane = Plane.principal(line)
    assert plane.filled == (3,)
    np.testing.assert_allclose(plane.axes[1], [0.0, 0.0, 0.0, 1.0], atol=1e-15)
    assert plane.explained == pytest.approx((1.0, 0.0), abs=1e-15)
    tied = Plane.principal(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))  # 1 and 2 tie: take 1
    np.testing.assert_allclose(tied.axes, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], atol=1e-15)
    still = Plane.principal(np.zeros((3, 4)))
    np.testing.assert_array_equal(still.axes, np.eye(4)[:2])  # (w1, w2): loss_grid's plane
    assert still.explained == (0.0, 0.0)


def test_a_filled_axis_in_p2_makes_the_projection_exact():
    plane = Plane.principal(np.array([[2.0, 1.0], [0.0, 0.0]]))  # rank 1 in the plane (w, b)
    points = np.random.default_rng(0).normal(size=(20, 2)) * 5
    np.testing.assert_allclose(plane.residual(points), 0.0, atol=1e-14)
    coordinates = plane.project(points)  # (20, 2)
    np.testing.assert_allclose(plane.lift(coordinates[:, 0], coordinates[:, 1]), points, atol=1e-13)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (np.ones((4, 1)), r"must have shape \(K, P\) with K >= 1 points of P >= 2 .* Got shape"),
        (np.ones((0, 3)), r"Got shape \(0, 3\) instead"),
        (np.ones(3), r"Got shape \(3,\) instead"),
        (np.array([[0.0, 1.0], [np.inf, 0.0]]), "must hold finite numbers .* Got inf instead"),
    ],
)
def test_paths_without_a_plane_are_refused(path, message):
    with pytest.raises(ValueError, match=message):
        Plane.principal(path)


def test_an_origin_of_another_space_is_refused():
    with pytest.raises(ValueError, match=r"The 'origin' parameter must have shape \(3,\)"):
        Plane.principal(np.zeros((4, 3)), origin=np.zeros(2))


# ---- Plane.through ------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(2, 7))
def test_through_puts_start_at_zero_end_on_alpha_and_best_above(seed, p):
    rng = np.random.default_rng(seed)
    start, end, best = rng.normal(size=(3, p))
    plane = Plane.through(start, end, best)
    np.testing.assert_allclose(plane.axes @ plane.axes.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(plane.project(start), [0.0, 0.0], atol=1e-15)
    alpha, beta = plane.project(end)
    assert alpha == pytest.approx(np.linalg.norm(end - start), rel=1e-12)
    assert beta == pytest.approx(0.0, abs=1e-12)
    assert plane.project(best)[1] > 0
    assert plane.residual(np.array([start, end, best])).max() < 1e-12
    assert plane.explained is None
    assert plane.description == "Slice through the start, the end and the best point"


@pytest.mark.parametrize(
    ("end", "best", "filled", "words"),
    [
        ([2.0, 0.0, 0.0], [4.0, 0.0, 0.0], (1,), "which lie on one line"),  # best on the line
        ([0.0, 0.0, 0.0], [0.0, 0.0, 3.0], (0,), "which lie on one line"),  # end = start
        ([2.0, 0.0, 0.0], [0.0, 0.0, 0.0], (1,), "and along the direction of params[1]"),
        ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], (0, 1), "Slice along params[0] and params[1]"),
    ],
)
def test_through_degenerate_points_get_a_filled_plane(end, best, filled, words):
    start = np.zeros(3)
    plane = Plane.through(start, np.array(end), np.array(best))
    assert plane.filled == filled
    assert words in plane.description
    np.testing.assert_allclose(plane.axes @ plane.axes.T, np.eye(2), atol=1e-12)
    assert plane.residual(np.array([start, end, best])).max() < 1e-12


def test_through_refuses_p1_and_mismatched_points():
    with pytest.raises(ValueError, match="The 'start' parameter must be a vector of P >= 2"):
        Plane.through(np.zeros(1), np.ones(1), np.ones(1))
    with pytest.raises(ValueError, match=r"The 'best' parameter must have shape \(3,\)"):
        Plane.through(np.zeros(3), np.ones(3), np.ones(4))


# ---- the record ---------------------------------------------------------------------------------


def test_a_plane_is_frozen_checked_and_readable():
    plane = Plane.principal(random_path(0, 6, 4, rank=3))
    with pytest.raises(ValueError, match="read-only"):
        plane.axes[0, 0] = 2.0
    assert repr(plane).startswith("Plane(principal, P=4, explained=(0.")
    with pytest.raises(ValueError, match=r"must have orthonormal rows .* Got axes @ axes.T"):
        Plane(np.zeros(3), np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]), "principal")
    with pytest.raises(ValueError, match=r"The 'kind' parameter must be one of 'principal', "):
        Plane(np.zeros(2), np.eye(2), "random")
    with pytest.raises(ValueError, match=r"The 'points' parameter must have shape \(\.\.\., 4\)"):
        plane.project(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="The 'names' parameter must name all 4 parameters"):
        plane.describe(("w", "b"))


def test_points_is_the_lifted_grid_in_loss_grid_orientation():
    plane = Plane.principal(random_path(5, 8, 4, rank=3))
    axis0, axis1 = np.linspace(-1, 1, 5), np.linspace(0, 2, 3)
    grid = plane.points(axis0, axis1)
    assert grid.shape == (3, 5, 4)  # (g1, g0, P)
    np.testing.assert_allclose(grid[2, 1], plane.lift(axis0[1], axis1[2]), atol=1e-15)
    np.testing.assert_allclose(plane.project(grid)[..., 0], np.tile(axis0, (3, 1)), atol=1e-12)
    np.testing.assert_allclose(plane.project(grid)[..., 1], np.tile(axis1[:, None], 5), atol=1e-12)


# ---- loss_on_plane ------------------------------------------------------------------------------


def data_for(model, seed=0):
    """A small data set for ``model``: x (n, 1), y (n,)."""
    make = {TanhNeuron: gd.datasets.tanh, LogisticRegression: gd.datasets.logistic}
    data = make.get(type(model), gd.datasets.linear)(n=40, seed=seed)
    return check_data(data.x, data.y)


@pytest.mark.parametrize("model", [LinearRegression(), TanhNeuron()])
def test_p2_plane_of_a_still_path_is_loss_grid_itself(model):
    x, y = data_for(model)
    point = np.array([0.7, -0.4])
    plane = Plane.principal(np.array([point]))  # axes (w, b): α moves w, β moves parameter 1
    axis0, axis1 = np.linspace(-2, 2, 7), np.linspace(-1, 1.5, 4)
    surface = loss_on_plane(model, x, y, plane, axis0, axis1)
    expected = model.loss_grid(x, y, point[0] + axis0, point[1] + axis1)
    assert surface.shape == (4, 7)
    np.testing.assert_allclose(surface, expected, rtol=TIGHT, atol=1e-12)


@pytest.mark.parametrize("model", [LinearRegression(), TanhNeuron()])
def test_p2_principal_plane_is_loss_grid_with_its_axes_swapped(model):
    x, y = data_for(model)
    # Moves along parameter 1 (16 units²), then parameter 0 (1 unit²): the first principal
    # direction is +e1 (the start (0, 4) has α = 4 > 0), the second +e0 (the start has β = 0,
    # so the farthest point (1, 0) decides). So α is parameter 1 and β is parameter 0.
    path = np.array([[0.0, 4.0], [1.0, 0.0], [0.0, 0.0]])
    plane = Plane.principal(path)
    np.testing.assert_allclose(plane.axes, [[0.0, 1.0], [1.0, 0.0]], atol=1e-15)
    axis0, axis1 = np.linspace(-1, 2, 6), np.linspace(-2, 1, 4)
    surface = loss_on_plane(model, x, y, plane, axis0, axis1)  # (4, 6)
    # surface[i, j] = L(w = axis1[i], b = axis0[j]) = loss_grid(axis0=axis1, axis1=axis0)[j, i]
    np.testing.assert_allclose(
        surface, model.loss_grid(x, y, axis1, axis0).T, rtol=TIGHT, atol=1e-12
    )


@pytest.mark.parametrize("model", [LinearRegression(), TanhNeuron()])
def test_p2_rotated_plane_matches_loss_grid_point_by_point(model):
    x, y = data_for(model)
    plane = Plane.principal(random_path(2, 6, 2, rank=2))
    assert plane.filled == ()
    axis0, axis1 = np.linspace(-1, 1, 4), np.linspace(-0.5, 0.5, 3)
    surface = loss_on_plane(model, x, y, plane, axis0, axis1)
    for i, beta in enumerate(axis1):
        for j, alpha in enumerate(axis0):
            w, b = plane.lift(alpha, beta)
            reference = model.loss_grid(x, y, np.array([w]), np.array([b]))[0, 0]
            assert surface[i, j] == pytest.approx(reference, rel=TIGHT, abs=1e-12)


def data_for_n(make, n):
    data = make(n=n, seed=0)
    return check_data(data.x, data.y)


def direct(model, x, y, plane, axis0, axis1):
    """The trusted reference: ``Model.loss`` at each grid point, one at a time."""
    return np.array(
        [[model.loss(plane.lift(alpha, beta), x, y) for alpha in axis0] for beta in axis1]
    )


@pytest.mark.parametrize(
    ("model", "features"),
    [(LinearRegression(), 3), (LogisticRegression(), 2), (TanhNeuron(), 1)],
)
def test_loss_on_plane_is_a_loop_of_model_loss(model, features):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(30, features))
    y = (rng.random(30) < 0.5).astype(float) if model.labels else rng.normal(size=30)
    n_params = len(model.param_names(features))
    plane = Plane.principal(np.cumsum(rng.normal(size=(12, n_params)), axis=0))
    axis0, axis1 = np.linspace(-3, 2, 4), np.linspace(-1, 3, 4)  # square: a transpose shows
    surface = loss_on_plane(model, x, y, plane, axis0, axis1)
    np.testing.assert_allclose(surface, direct(model, x, y, plane, axis0, axis1), rtol=TIGHT)


def test_an_mlp_run_gets_its_principal_plane_and_its_surface(monkeypatch):
    if not hasattr(gd.models, "MLP"):
        pytest.skip("gd.models.MLP is not there yet (issue 18)")
    monkeypatch.setattr(gd.engine, "compiled", None)  # the NumPy reference: no compile here
    model = gd.models.MLP(hidden=4)
    data = gd.datasets.curve(n=40, seed=1)
    x, y = check_data(data.x, data.y)
    run = gd.fit(
        model, x, y, gd.SGD(learning_rate=0.1), gd.Training(epochs=3), batch_size=8, engine="numpy"
    )
    plane = Plane.principal(run.params)  # (16, 13): P = 13
    assert plane.n_params == len(model.param_names(1)) == 13
    assert plane.filled == ()
    assert plane.description.startswith("Slice through the top two principal directions")
    np.testing.assert_allclose(plane.project(run.params[-1]), [0.0, 0.0], atol=1e-15)
    assert np.all(plane.project(run.params[0]) > 0)
    box = window(plane, run.params)
    axis0, axis1 = box.grid(4, 3)
    surface = loss_on_plane(model, x, y, plane, axis0, axis1)
    np.testing.assert_allclose(surface, direct(model, x, y, plane, axis0, axis1), rtol=TIGHT)
    # The end is the origin: the surface there is the run's last recorded loss.
    at_end = loss_on_plane(model, x, y, plane, np.zeros(1), np.zeros(1))[0, 0]
    assert at_end == pytest.approx(run.loss[-1], rel=1e-12)


@pytest.mark.parametrize("cells", [1, 2, 4, 7, 1000])
def test_loss_on_plane_blocks_give_the_same_surface_and_stay_bounded(monkeypatch, cells):
    model = LinearRegression()
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    plane = Plane.principal(rng.normal(size=(6, 4)))
    axis0, axis1 = np.linspace(-1, 1, 5), np.linspace(-2, 2, 3)  # 15 cells: ragged blocks
    whole = loss_on_plane(model, x, y, plane, axis0, axis1)
    seen = []
    original = LinearRegression.plane_losses

    def spy(self, x, y, basis, block0, block1):
        np.testing.assert_array_equal(basis, plane.basis)
        assert block0.size * block1.size <= cells
        seen.extend((b, a) for b in block1 for a in block0)
        return original(self, x, y, basis, block0, block1)

    monkeypatch.setattr(plane_module, "_CHUNK_ELEMENTS", 4 * cells)  # P = 4
    monkeypatch.setattr(LinearRegression, "plane_losses", spy)
    blocked = loss_on_plane(model, x, y, plane, axis0, axis1)
    np.testing.assert_allclose(blocked, whole, rtol=1e-13)  # BLAS may sum a lone row otherwise
    assert sorted(seen) == sorted((b, a) for b in axis1 for a in axis0)  # each cell once


def test_loss_on_plane_refuses_a_plane_of_another_model():
    x, y = data_for_n(gd.datasets.linear, 10)
    plane = Plane.principal(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="space of 4 parameters, but linear regression with 1"):
        loss_on_plane(LinearRegression(), x, y, plane, np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="The 'axis1' parameter must be a non-empty 1-D array"):
        loss_on_plane(LinearRegression(), x, y, Plane.principal(np.zeros((1, 2))),
                      np.zeros(2), np.zeros((2, 2)))  # fmt: skip


def test_loss_on_plane_far_out_is_inf_without_a_warning():
    x, y = data_for_n(gd.datasets.tanh, 10)
    plane = Plane.principal(np.zeros((1, 2)))
    surface = loss_on_plane(TanhNeuron(), x, y, plane, np.ones(1), np.array([1e300]))
    assert np.isinf(surface[0, 0])


# ---- window -------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), runs=st.integers(1, 4), margin=st.floats(0.01, 1.0))
def test_window_holds_every_projected_path_and_the_origin_with_the_margin(seed, runs, margin):
    family = [random_path(seed + r, 8, 5, rank=3) for r in range(runs)]  # (K, P) each
    plane = Plane.principal(family[0])  # ONE plane for every run of the family
    box = window(plane, family, margin=margin)
    coordinates = np.concatenate([plane.project(path) for path in family])  # (R·K, 2)
    low = np.minimum(coordinates.min(axis=0), 0.0)
    high = np.maximum(coordinates.max(axis=0), 0.0)
    pad = margin * np.max(high - low)
    np.testing.assert_allclose([box.axis0[0], box.axis1[0]], low - pad, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose([box.axis0[1], box.axis1[1]], high + pad, rtol=1e-12, atol=1e-12)
    assert box == window(plane, np.array(family), margin=margin)  # (R, K, P) like Family.params


def test_window_holds_an_origin_off_the_paths():
    path = np.array([[2.0, 1.0], [3.0, 2.0], [4.0, 1.5]])
    plane = Plane.principal(path, origin=np.array([-1.0, -1.0]))  # e.g. the minimum
    box = window(plane, [path], margin=0.1)
    low, high = np.array([box.axis0[0], box.axis1[0]]), np.array([box.axis0[1], box.axis1[1]])
    for point in (*plane.project(path), np.zeros(2)):
        assert np.all(low < point) and np.all(point < high)


def test_window_skips_non_finite_rows_and_frames_a_still_path():
    plane = Plane.principal(np.array([[1.0, 0.0], [0.0, 0.0]]))
    blown = np.array([[1.0, 0.0], [np.nan, np.nan], [np.inf, 0.0]])
    assert window(plane, [blown], margin=0.5) == window(plane, [blown[:1]], margin=0.5)
    assert window(plane, np.zeros((3, 2))) == Window((-1.0, 1.0), (-1.0, 1.0))
    axis0, axis1 = window(plane, np.zeros((3, 2))).grid(5, 3)
    np.testing.assert_array_equal(axis0, [-1.0, -0.5, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(axis1, [-1.0, 0.0, 1.0])
    with pytest.raises(
        ValueError, match=re.escape("The 'margin' parameter must be > 0. Got 0.0 instead.")
    ):
        window(plane, np.zeros((3, 2)), margin=0.0)
