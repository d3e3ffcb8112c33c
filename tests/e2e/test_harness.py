"""Checks of the e2e harness itself: the server starts, the default page loads cleanly."""

from harness.browser import assert_no_exception, error_log, goto, screenshot


def test_server_serves_the_default_page(app_server, page):
    goto(page, app_server, timeout=60_000)  # a cold numba cache may compile on first load
    assert (
        page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state")
        == "notRunning"
    )
    assert_no_exception(page)
    assert not error_log(page).page_errors
    path = screenshot(page, "harness-default-page")
    assert path.exists() and path.stat().st_size > 0
