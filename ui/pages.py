"""The app's pages, in the navigation's order: the one list that ``app.py`` builds its
navigation from and that a class link names its page by (``ui.classroom``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    file: str  # the script, relative to app.py
    title: str
    icon: str
    url_path: str  # "" for the default page, the Playground

    @property
    def default(self) -> bool:
        return self.url_path == ""


PAGES = (
    Page("lessons/playground.py", "Playground", ":material/tune:", ""),
    Page(
        "lessons/batch_sizes.py",
        "Batch, mini-batch, stochastic",
        ":material/stacks:",
        "batch_sizes",
    ),
    Page(
        "lessons/inside_a_batch.py", "Inside one mini-batch", ":material/grain:", "inside_a_batch"
    ),
    Page("lessons/keras_to_here.py", "From Keras to here", ":material/code:", "keras_to_here"),
    Page("lessons/maps.py", "Hyperparameter maps", ":material/grid_on:", "maps"),
    Page(
        "lessons/batch_size_choice.py",
        "How big should my batch be?",
        ":material/straighten:",
        "batch_size_choice",
    ),
    Page("lessons/teach.py", "Teach a class", ":material/school:", "teach"),
)
LESSONS = tuple(page for page in PAGES if page.url_path != "teach")  # what a class can open
BY_PATH = {page.url_path: page for page in PAGES}
