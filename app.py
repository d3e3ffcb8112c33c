"""The frame: page config and navigation. Each lesson is a short script in pages/."""

import streamlit as st

st.set_page_config(
    page_title="Mini-batch SGD, seen and felt",
    page_icon=":material/ssid_chart:",
    layout="wide",
)

PAGES = [
    st.Page("pages/playground.py", title="Playground", icon=":material/tune:", default=True),
    st.Page("pages/keras_to_here.py", title="From Keras to here", icon=":material/code:",
            url_path="keras_to_here"),
    st.Page("pages/maps.py", title="Hyperparameter maps", icon=":material/grid_on:",
            url_path="maps"),
]  # fmt: skip

st.navigation(PAGES).run()
