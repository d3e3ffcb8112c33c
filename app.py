"""The frame: page config and navigation. Each lesson is a short script in lessons/.

The lessons live in ``lessons/``, not ``pages/``: with a folder named ``pages`` next to the
entry point, Streamlit 1.67 starts in its old automatic multipage mode, and until some session
has run this file, a deep link such as ``/maps`` runs the lesson alone, without this frame
(``PagesManager.uses_pages_directory``; reported in streamlit/streamlit#10276). A class opening
the teacher's link right after the server starts would see exactly that.
"""

from pathlib import Path

import streamlit as st

from ui.offline import pin_public_address

pin_public_address()
st.set_page_config(
    page_title="Mini-batch SGD, seen and felt",
    # A file on this server: a Material icon here would make every browser fetch the favicon
    # from Google's font servers, which an offline classroom cannot reach.
    page_icon=str(Path(__file__).parent / "assets" / "favicon.png"),
    layout="wide",
)

PAGES = [
    st.Page("lessons/playground.py", title="Playground", icon=":material/tune:", default=True),
    st.Page(
        "lessons/batch_sizes.py",
        title="Batch, mini-batch, stochastic",
        icon=":material/stacks:",
        url_path="batch_sizes",
    ),
    st.Page(
        "lessons/inside_a_batch.py",
        title="Inside one mini-batch",
        icon=":material/grain:",
        url_path="inside_a_batch",
    ),
    st.Page(
        "lessons/keras_to_here.py",
        title="From Keras to here",
        icon=":material/code:",
        url_path="keras_to_here",
    ),
    st.Page(
        "lessons/maps.py", title="Hyperparameter maps", icon=":material/grid_on:", url_path="maps"
    ),
    st.Page(
        "lessons/batch_size_choice.py",
        title="How big should my batch be?",
        icon=":material/straighten:",
        url_path="batch_size_choice",
    ),
]

st.navigation(PAGES).run()
