"""How big should my batch be? Steps to a target against batch size, measured."""

import math
import time

import streamlit as st

from ui import batch_size_choice as choice
from ui import batch_size_choice_charts as views
from ui import cache, controls, lesson
from ui.text import user_text

DRAW_EVERY = 0.25  # s between two drawings of the steps chart while it is being measured

st.title("How big should my batch be?")
st.markdown(views.question(len(choice.SEEDS)))
data_note = st.sidebar.container()  # at the top of the sidebar: which data the page trains on
settings = lesson.start(
    omit=("batch_size", "learning_rate", "decay", "nesterov", "epochs", "shuffle", "seed")
)


def from_link(n_train: int | None = None) -> None:
    """Say which of this page's values in the link cannot be used, each replaced by its
    default (``choice.link_values``), and seed the two number inputs, which are not bound to
    the link, from it; only for widgets the session has not drawn yet."""
    fresh = {k: v for k, v in st.query_params.to_dict().items() if k not in st.session_state}
    values, notices = choice.link_values(fresh, n_train)
    for key in (choice.MY_MS, choice.MY_BATCH):
        if key in values:
            st.session_state[key] = values[key]
    for notice in notices:
        st.warning(
            f"The link had a value that could not be used: {user_text(notice)}",
            icon=":material/link_off:",
        )


def to_link(key: str, value: float, default: float) -> None:
    """Keep an unbound widget's value in the link (only when it differs from the default).

    The link is written only when it changes: each write sends the server's copy of the whole
    address, which would undo what a bound widget just wrote to it in the browser."""
    text = None if value == default else f"{value:g}"
    if st.query_params.get(key) == text:
        return
    if text is None:
        del st.query_params[key]
    else:
        st.query_params[key] = text


from_link()

st.sidebar.subheader("This page")
sidebar_data = st.sidebar.toggle(
    "Train on the Data section's settings",
    key=choice.SIDEBAR_DATA,
    bind="query-params",
    disabled=settings.source == "csv",
    help="Off: this page's own example data, where the question has an answer (the shared "
    "defaults are solved in a handful of updates by any batch size). On: the data set in the "
    "sidebar's Data section. An uploaded CSV is always used.",
)
problem = choice.problem(settings, sidebar_data)
if choice.uses_example(settings, sidebar_data):
    example = choice.EXAMPLES[settings.model]
    data_note.info(
        f"This page trains on its own example data: {example.words()}. The Data section's "
        "settings apply when “Train on the Data section's settings” is on (This page, below).",
        icon=":material/dataset:",
    )
# value= is each slider's default, which Streamlit leaves out of the link; a value set through
# st.session_state instead would leave options[0] as the default, and a link to it would open
# at the page's default.
lowest, lowest_short = choice.lowest_words(problem)
fraction = st.sidebar.select_slider(
    f"Target: how far from the start loss down to {lowest_short}",
    choice.TARGETS,
    value=choice.DEFAULT_TARGET,
    key=choice.TARGET,
    bind="query-params",
    format_func=choice.target_label,
    help="A run reaches the target when its full training loss is this far down, from the "
    f"loss at the start to {lowest}, and stays there for an epoch. Closer to 100 % asks for "
    "more precision.",
)
max_epochs = st.sidebar.select_slider(
    "Longest run (epochs)",
    choice.EPOCH_CHOICES,
    value=choice.DEFAULT_EPOCHS,
    key=choice.MAX_EPOCHS,
    bind="query-params",
    help="A batch size that does not reach the target within this many epochs counts as "
    "not reached.",
)

n_train = problem.n_train
csv = cache.uploaded_csv(problem)
lesson.within_budget(
    choice.work(problem, csv, max_epochs),
    f"{len(choice.learning_rates_for(problem, csv))} learning rates × "
    f"{len(choice.SEEDS)} seeds at each of {choice.batch_sizes_for(n_train).size} batch sizes, "
    f"up to {max_epochs} epochs on {n_train:,} rows,",
    lambda: choice.offer(settings, csv, max_epochs, sidebar_data),
)

intro = st.empty()
st.subheader("Steps to the target")
chart = st.empty()
progress = st.progress(0.0, text="Training every batch size at every learning rate…")
drawn = [time.perf_counter()]  # when the steps chart was last drawn (or the search began)


def draw_so_far(so_far) -> None:
    """Draw the batch sizes measured so far, at most every ``DRAW_EVERY`` seconds: a search
    answered from the cache draws once, at the end."""
    if time.perf_counter() - drawn[0] >= DRAW_EVERY:
        chart.plotly_chart(views.steps_figure(so_far, "Steps to the target (measuring…)"))
        drawn[0] = time.perf_counter()


with lesson.explained_errors():
    measured = choice.measure(
        settings,
        fraction,
        max_epochs,
        lambda done, total: progress.progress(
            done / total, text=f"Measured {done} of {total} batch sizes…"
        ),
        draw_so_far,
        sidebar_data,
    )
progress.empty()
result = measured.result

intro.markdown(
    f"Target: a full training loss of **{result.target_loss:.4g}**, "
    f"{choice.target_label(fraction)} of the way from the start ({measured.start_loss:.4g}) "
    f"to {lowest} ({measured.min_loss:.4g}), on {n_train:,} training rows. "
    f"{result.learning_rates.size} learning rates from {result.learning_rates.min():.2g} to "
    f"{result.learning_rates.max():.2g} × {result.batch_sizes.size} batch sizes × "
    f"{result.seeds.size} seeds, up to {result.max_epochs} epochs each. "
    + choice.rate_grid_note(problem)
    + " "
    + views.reach_sentence(result.stay_epochs, result.seeds.size)
)
chart.plotly_chart(views.steps_figure(result), key="chart_steps")
cards = views.fit_cards(result)
for column, (label, value, tip) in zip(st.columns(max(len(cards), 1)), cards, strict=False):
    column.metric(label, value, help=tip, border=True)
st.markdown(views.fit_sentence(result))
doubling = views.doubling_sentence(result)
if doubling:
    st.markdown(doubling)
note = views.edge_note(result)
if note:
    st.caption(note)
missing = result.batch_sizes[~result.reached]
if missing.size:
    st.caption(
        "Not reached within the longest run: batch size "
        + ", ".join(str(int(size)) for size in missing)
        + "."
    )

left, right = st.columns(2)
left.plotly_chart(views.epochs_figure(result), key="chart_epochs")
left.caption(views.epochs_caption(result))
right.plotly_chart(views.rate_figure(result), key="chart_rates")
right.markdown(views.rate_sentence(result))
controls.page_link(
    right,
    "lessons/maps.py",
    measured.problem,
    label="See every learning rate × batch size on the maps",
    icon=":material/grid_on:",
)

st.subheader("Gradient noise during training")
st.markdown(views.NOISE_SCALE)
along = choice.noise_along(measured)
if along is None:
    st.info("No batch size reached the target, so there is no run to follow.")
else:
    left, right = st.columns([3, 2])
    b_crit = result.b_crit if views.fit_holds(result) else math.nan
    left.plotly_chart(views.noise_figure(along, b_crit), key="chart_noise_scale")
    right.latex(r"B_\text{simple} = \frac{\operatorname{tr}\Sigma}{\lvert G\rvert^2}")
    right.markdown(views.noise_sentence(along))
    agreement = views.agreement_sentence(
        result, measured.b_simple_start, float(along.b_simple[along.marks[2]])
    )
    if agreement:
        right.markdown(agreement)

st.subheader("Time to the target")
# The two number inputs read the link here, not through Streamlit's binding, whose parsing of
# an integer raised OverflowError on my_batch_size=inf (issue 21); they write it back below.
from_link(n_train)
my_default = choice.default_my_batch(n_train)
st.session_state.setdefault(choice.MY_MS, 0.0)
st.session_state.setdefault(choice.MY_BATCH, my_default)
if not 1 <= st.session_state[choice.MY_BATCH] <= n_train:
    st.session_state[choice.MY_BATCH] = my_default  # other data, fewer rows
cost = choice.server_cost(settings)
left, right = st.columns([3, 2])
right.markdown(views.cost_sentence(cost))
right.markdown(
    "Keras's progress bar prints your cost per step, e.g. `32/32 ━━━━ 1s 3ms/step`. Enter it "
    "and the batch size it was printed at:"
)
mine, at = right.columns(2)
my_ms = mine.number_input(
    "Your ms/step", min_value=0.0, max_value=choice.MAX_MS, step=0.5, key=choice.MY_MS
)
my_batch = at.number_input("at batch size", min_value=1, max_value=n_train, key=choice.MY_BATCH)
to_link(choice.MY_MS, my_ms, 0.0)
to_link(choice.MY_BATCH, my_batch, my_default)
learner = cost.scaled_to(my_ms, int(my_batch)) if my_ms > 0 else None
server_best = views.fastest(result, cost)
learner_best = views.fastest(result, learner) if learner is not None else None
left.plotly_chart(views.time_figure(result, cost, learner), key="chart_time")
right.markdown(views.time_sentence(server_best, learner_best, int(my_batch)))
right.caption(
    "One ms/step cannot split your cost into its fixed and per-row parts, so your curve keeps "
    "this server's split, scaled to your number. On a GPU the cost per row stays nearly flat "
    "up to a memory limit (the rows are processed in parallel), so the fixed cost dominates "
    "and the fastest batch size moves right, towards and past B_crit."
)

st.subheader("Takeaway")
st.markdown(views.takeaway(result, server_best, learner_best))
