"""The frame: page config and navigation. Each lesson is a short script in lessons/.

The lessons live in ``lessons/``, not ``pages/``: with a folder named ``pages`` next to the
entry point, Streamlit 1.67 starts in its old automatic multipage mode, and until some session
has run this file, a deep link such as ``/maps`` runs the lesson alone, without this frame
(``PagesManager.uses_pages_directory``; reported in streamlit/streamlit#10276). A class opening
the teacher's link right after the server starts would see exactly that.
"""

from pathlib import Path

import streamlit as st

from ui import classroom, pages
from ui.offline import pin_public_address

pin_public_address()
st.set_page_config(
    page_title="Mini-batch SGD, seen and felt",
    # A file on this server: a Material icon here would make every browser fetch the favicon
    # from Google's font servers, which an offline classroom cannot reach.
    page_icon=str(Path(__file__).parent / "assets" / "favicon.png"),
    layout="wide",
    # The presenter view (?present=1, for a projector) opens with the sidebar out of the way.
    initial_sidebar_state="collapsed" if classroom.presenting() else "auto",
)

PAGES = [
    st.Page(p.file, title=p.title, icon=p.icon, default=p.default, url_path=p.url_path or None)
    for p in pages.PAGES
]

page = st.navigation(PAGES)
# A class link joins its class; the class's question comes above every page, and a page waits
# for its answer (predict, then observe). Outside a class, neither draws anything.
classroom.arrive(page.url_path)
classroom.banner()
if classroom.held_back(page.url_path):
    st.stop()
page.run()
