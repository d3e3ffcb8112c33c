"""Classroom mode end to end (issue 20), in real Chromium: one teacher and three students,
each in a browser context of their own, against one `streamlit run app.py` server.

The teacher builds a class link with a ready-made question; the students open it, see the
question first with the stage paused at update 0, and answer; the run then plays. The
teacher's count rises within 2 s of each answer; the reveal reaches every student's screen
(the class's answers beside the run's); the presenter view shows it all at 1280x720 in large
type. Each step saves a screenshot in `docs/screenshots/classroom-*.png` (docs/classroom.md).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from harness.browser import (
    assert_no_exception,
    attach_error_log,
    find_stage,
    goto,
    install_probes,
    screenshot,
    stage_update,
    wait_idle,
)

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}
QUESTION = "Which batch size reaches the lower loss?"
COUNT_WITHIN_MS = 2_000 + 1_500  # the 2 s, plus a rerun's round trip on a busy CI box
REVEAL_WITHIN_MS = 2_000 * 2 + 3_000  # a student's poll (2 s) and the page's rerun


def keep(page, name: str) -> None:
    """The step's screenshot, for docs/classroom.md."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(screenshot(page, name), SHOTS / f"{name}.png")


def new_page(browser, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(60_000)
    attach_error_log(page)
    install_probes(page)
    return page


def code_blocks(page) -> list[str]:
    return [t.strip() for t in page.locator('[data-testid="stCode"] code').all_inner_texts()]


def chart_title(page, key: str = "") -> str:
    return page.locator(".js-plotly-plot .gtitle").first.text_content()


def test_a_lesson_with_a_question_from_link_to_reveal(browser, app_server):
    teacher = new_page(browser, PROJECTOR)
    goto(teacher, app_server, "teach")
    assert_no_exception(teacher)
    teacher.get_by_role("combobox", name="Question").click()
    teacher.get_by_role("option", name=QUESTION, exact=True).click()
    wait_idle(teacher, rerun_grace_ms=1_500)
    teacher.get_by_role("button", name="Create the class").click()
    wait_idle(teacher, rerun_grace_ms=1_500)
    links = code_blocks(teacher)
    class_link = next(link for link in links if link.endswith("class=" + link[-6:]))
    teacher_link = next(link for link in links if "key=" in link)
    present_link = next(link for link in links if link.endswith("present=1"))
    code = parse_qs(urlparse(class_link).query)["class"][0]
    assert class_link.startswith(app_server) and len(code) == 6
    keep(teacher, "classroom-1-build")

    teacher.goto(teacher_link)
    wait_idle(teacher)
    assert teacher.get_by_text("Teaching class").count()
    assert "0 answers" in chart_title(teacher)

    students = [new_page(browser, size) for size in (PROJECTOR, PROJECTOR, PHONE)]
    for student in students:
        goto(student, app_server, query=f"class={code}")
        find_stage(student)
        assert_no_exception(student)
        assert student.get_by_text("Predict first").count()
        assert stage_update(student) == 0  # paused at update 0 until the answer
    keep(students[0], "classroom-2-predict")
    keep(students[2], "classroom-2-predict-phone")

    for n, (student, choice) in enumerate(zip(students, ("1", "32", "1"), strict=True), start=1):
        student.locator('[data-testid="stRadio"]').get_by_text(choice, exact=True).click()
        student.get_by_role("button", name="Answer").click()
        wait_idle(student)
        assert student.get_by_text("Your answer:").count()
        teacher.wait_for_function(
            "(n) => [...document.querySelectorAll('.js-plotly-plot .gtitle')]"
            ".some((t) => t.textContent.includes(`${n} answer`))",
            arg=n,
            timeout=COUNT_WITHIN_MS,
        )
    find_stage(students[0])  # the run plays from update 0 once answered
    students[0].wait_for_function(
        "() => Number(window.__stage.getAttribute('data-update')) > 5", timeout=10_000
    )
    keep(students[0], "classroom-3-answered")
    keep(teacher, "classroom-4-teacher-counts")

    teacher.get_by_role("button", name="Reveal to the class").click()
    wait_idle(teacher)
    for student in students:
        student.get_by_text("The run's answer:").first.wait_for(timeout=REVEAL_WITHIN_MS)
        wait_idle(student)
        assert_no_exception(student)
        assert "3 answers" in chart_title(student)
    keep(students[0], "classroom-5-revealed")
    keep(students[2], "classroom-5-revealed-phone")

    projector = new_page(browser, PROJECTOR)
    projector.goto(present_link)
    wait_idle(projector)
    find_stage(projector)
    assert_no_exception(projector)
    assert projector.locator("[data-stage]").get_attribute("data-present") == "1"
    assert projector.get_by_text(f"{code[:3]}-{code[3:]}").count()
    sidebar = projector.locator('[data-testid="stSidebar"]')
    assert sidebar.get_attribute("data-collapsed") == "true"
    smallest = projector.evaluate(SMALLEST_MAIN_TEXT)
    assert smallest >= 20, f"text of {smallest}px on the projector"
    keep(projector, "classroom-6-presenter")


# The smallest font size of any visible text in the main area outside the stage (the stage's
# own presenter sizes are checked in tests/e2e/test_stage_view.py) and the charts' SVG text.
SMALLEST_MAIN_TEXT = """
() => {
  const main = document.querySelector('[data-testid="stMain"]');
  let smallest = Infinity;
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest('[data-stage]')) continue;
    if (el.closest('[data-testid="stToolbar"], .modebar, [data-testid="stHeader"]')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    smallest = Math.min(smallest, parseFloat(getComputedStyle(el).fontSize));
  }
  return smallest;
}
"""
