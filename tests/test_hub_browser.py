"""End to end on a real JupyterHub, driven in headless Chromium with Playwright.

As root (always in CI) the hub is the production jupyterhub/jupyterhub_config.py itself:
the two students, the TA and the grader account that owns the course are real Unix accounts
made for this module (``useradd``, removed after), everyone logs in through PAM, each
student's JupyterLab runs as that student, formgrader as the grader account, and nbgrader
checks file owners in the exchange. Without root (a developer's machine) it is
jupyterhub/jupyterhub_config_local.py instead (a shared password, one account for all).
Either way on loopback with the configurable-http-proxy from jupyterhub/node_modules. The story:

  TA (command line)   generate + release section03 into the exchange
  student (browser)   logs in -> Nbgrader > Assignment List -> Fetch -> opens problem 2,
                      fills every answer cell, Run All, sees the sliding-filter animation play,
                      Validate; answers a written question of problem 1; Submit
  student (browser)   cannot reach the graders' formgrader service
  TA (browser)        the graders' JupyterLab (hub service) > Nbgrader > Formgrader: Collect
  TA (command line)   the class grading command (python -m autograder grade)
  TA (browser)        formgrader: grades the written answer, comments, Generate + Release Feedback
  student (browser)   Fetch Feedback, opens the feedback: score and the TA's comment, no hidden test

Screenshots of each step: tests/artifacts/hub/*.png (and the hub's log). Waits are
Playwright's auto-waiting locators and expectations on application state, never sleeps, all
under one time limit (WAIT_MS) that fits a busy machine; no call sets its own.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import sys
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest

from tests.hub_fixtures import (
    ARTIFACTS, CHP, CHROMIUM, CHROMIUM_ARGS, COURSE_ID, Course, Hub, Person, UnixAccount,
    real_accounts_unavailable, world_reachable_base,
    feedback_leaks, hidden_test_lines, solution_cells,
)

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

# The one time limit of every wait in this module: expect() assertions, actions, navigation
# (set below, in `browser` and `login`; no call passes its own timeout=). Each wait ends as
# soon as the state it waits for is there, so the figure only decides how long a real failure
# takes to be reported. It is sized for the slowest state the journey waits on, on a machine
# whose every core is busy (.ci/hub-under-load: two busy loops per core): Validate and
# Generate Feedback run nbgrader over whole notebooks in the hub's servers, and a student's
# first visit spawns their server and loads JupyterLab. Under .ci/hub-under-load (load 5 to
# 12 on 2 cores) the slowest of these, spawn + Lab restore, took up to about 55 s: 300 s is
# five times that. Playwright's 5 s (expect) and 30 s (actions) fit an idle machine only:
# a 47-cell notebook still being drawn failed a count at 5 s.
WAIT_MS = 300_000

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "hub"
# Real accounts get a random prefix, so they never meet an account the machine already has.
NO_REAL_ACCOUNTS = real_accounts_unavailable()
_PREFIX = "" if NO_REAL_ACCOUNTS else f"dl{secrets.token_hex(3)}"
ALICE, BOB, TA1, GRADER = (_PREFIX + n for n in ("alice", "bob", "ta1", "grader"))
STUDENTS = [ALICE, BOB]
GRADERS = [TA1]
PASSWORD = secrets.token_urlsafe(12) if not NO_REAL_ACCOUNTS else "dl-section03-test-password"
LAB_NOTEBOOK = "02_kernel_of_truth"
WRITTEN = ("01_conv_arithmetic", "q1i")
WRITTEN_ANSWER = ("Training a deep conv net on two GPUs with ReLU activations, and dropout to "
                  "fight overfitting.")
TA_COMMENT = "Good: ReLU and GPUs. Mention dropout's effect on the fully connected layers too."

if not Path(CHROMIUM).exists() or not CHP.exists():  # pragma: no cover - setup tells how
    if os.environ.get("CI") == "true":  # in CI a missing browser is a broken set-up, not a skip
        raise RuntimeError("CI: Debian's chromium or jupyterhub/node_modules is missing; "
                           "`make setup` installs them")
    pytest.skip("needs Debian's chromium and jupyterhub/node_modules (run `make setup`)",
                allow_module_level=True)
if NO_REAL_ACCOUNTS and os.environ.get("CI") == "true":  # pragma: no cover
    raise RuntimeError(f"CI: the hub test needs real accounts and PAM ({NO_REAL_ACCOUNTS}); "
                       "CI runs as root with passwd, util-linux and bubblewrap")


def shot(page, name, locator=None):
    SHOTS.mkdir(parents=True, exist_ok=True)
    (locator or page).screenshot(path=str(SHOTS / f"{name}.png"))


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def accounts():
    """name -> UnixAccount for the students, the TA and the grader account (None without root);
    their homes and the course live in a folder every account can reach."""
    if NO_REAL_ACCOUNTS:
        yield None
        return
    base = world_reachable_base("dl-hub-")
    made = {}
    try:
        for name in (*STUDENTS, *GRADERS, GRADER):
            made[name] = UnixAccount(name, home=base / "home" / name, password=PASSWORD)
        made["base"] = base
        yield made
    finally:
        for name, account in made.items():
            if name != "base":
                account.remove()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def course(tmp_path_factory, accounts):
    if accounts is None:
        course = Course(tmp_path_factory.mktemp("hub"))
        ta = Person(course, TA1, "grader")
    else:
        course = Course(accounts["base"])
        accounts[GRADER].give(course.root)
        ta = Person(course, GRADER, "grader", accounts[GRADER])
        for name in (*STUDENTS, *GRADERS):
            Person(course, name, "student", accounts[name])  # makes their home, 0700
    ta.nbgrader("db", "student", "import", str(course.write_roster(STUDENTS)))
    ta.nbgrader("generate_assignment", course.assignment)
    ta.nbgrader("release_assignment", course.assignment)
    return course


@pytest.fixture(scope="module")
def hub(course, accounts):
    grader = accounts[GRADER] if accounts else None
    hub = Hub(course, STUDENTS, GRADERS, grader_account=grader, password=PASSWORD).start()
    yield hub
    hub.stop()
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(hub.log_path, SHOTS / "jupyterhub.log")


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        expect.set_options(timeout=WAIT_MS)  # see WAIT_MS
        try:
            yield b
        finally:
            expect.set_options(timeout=None)  # Playwright's own default again, for other modules
            b.close()


@pytest.fixture(scope="module")
def login(browser, hub):
    """login(user) -> a Page logged in to the hub, in its own browser context (own cookies)."""
    contexts = []

    def _login(user, next_url=None):
        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
        ctx.set_default_timeout(WAIT_MS)  # actions and waits; see WAIT_MS
        ctx.set_default_navigation_timeout(WAIT_MS)  # goto, wait_for_url (spawn + Lab load)
        # Only the hub is reachable: requests elsewhere (a CDN in a page template) are refused
        # at once instead of hanging until the network gives up, which can hold back a page's
        # load event -- and with it formgrader's input handlers -- for minutes.
        ctx.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(hub.url + "/hub/login" + (f"?next={next_url}" if next_url else ""))
        page.fill("#username_input", user)
        page.fill("#password_input", hub.password)
        return page

    yield _login
    for i, ctx in enumerate(contexts):  # the last state of every page, for debugging
        for j, page in enumerate(ctx.pages):
            try:
                shot(page, f"zz_last_{i}_{j}")
            except Exception:  # a page that is gone has nothing to show
                pass
        ctx.close()


# --------------------------------------------------------------------------- JupyterLab helpers

def open_lab(page, user):
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/lab**")  # spawn + Lab load
    wait_lab_restored(page)


def wait_lab_restored(page):
    """Wait until JupyterLab has restored its layout (after any page load of a Lab).

    Until then a focus change can close a menu as it opens, and a restore slower than 12 s
    puts a "Loading..." dialog over the page. JupyterLab's splash screen is removed once its
    `restored` promise resolves (after that dialog is gone): that is the state to wait for."""
    expect(page.locator("#jp-main-dock-panel")).to_be_visible()
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)
    expect(page.get_by_text("Nbgrader", exact=True)).to_be_visible()


def open_nbgrader_menu(page, item_text="Assignment List"):
    """Open the Nbgrader menu (once JupyterLab has restored its layout); returns its item."""
    wait_lab_restored(page)
    page.get_by_text("Nbgrader", exact=True).click()
    item = page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item_text}$"))
    expect(item).to_be_visible()
    return item


def close_nbgrader_menu(page):
    """Close the open Nbgrader menu the way it was opened, by a click on its title (Lumino's
    menu bar toggles it shut); wait until it is gone.

    Not with Escape: keys reach a Lumino menu only once it has the focus, which it asks for
    a frame after it is shown, and which other widgets can take (the graders' Lab kept it
    from the menu for minutes). An Escape sent meanwhile is lost, the menu stays open, and
    the next click on "Nbgrader" then shuts it instead of opening it."""
    expect(page.locator(".lm-Menu")).to_have_count(1)
    page.get_by_text("Nbgrader", exact=True).click()
    expect(page.locator(".lm-Menu")).to_have_count(0)


def open_assignment_list(page):
    """Nbgrader > Assignment List; returns the panel once its lists are loaded (a panel that
    JupyterLab restores after a page load starts by fetching them: "Loading, please wait")."""
    open_nbgrader_menu(page).click()
    panel = page.locator("#assignments")
    expect(panel).to_be_visible()
    expect(panel.locator(".list_loading:visible")).to_have_count(0)
    errors = panel.locator(".list_error:visible")
    assert errors.count() == 0, errors.all_inner_texts()
    return panel


def menu(page, top, item):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{top}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def open_notebook(page, panel, aid, name):
    fetched = panel.locator("#fetched_assignments_list > .list_item", has_text=aid).first
    row = fetched.locator(".nested_list_item", has_text=name)
    if not row.is_visible():
        fetched.locator("a.assignment-notebooks-link").click()
    row.locator("a", has_text=name).click()
    nb = page.locator(".jp-NotebookPanel:visible")
    expect(page.locator(".lm-TabBar-tab.lm-mod-current", has_text=f"{name}.ipynb")).to_be_visible()
    expect(nb.locator(".jp-Notebook-ExecutionIndicator[data-status='idle'], "
                      ".jp-Toolbar-kernelStatus").first).to_be_attached()
    return nb


def type_into_cell(page, nb, index, text, markdown=False):
    """Replace cell `index`'s text the way a student does: click in, select all, type."""
    cell = nb.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.scroll_into_view_if_needed()
    if markdown:
        cell.locator(".jp-MarkdownOutput").dblclick()
    editor = cell.locator(".cm-content")
    editor.click()
    # keys go to the editor only once it has the focus (else Control+a selects all cells)
    expect(editor).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)
    page.keyboard.press("Escape")
    expect(editor).to_contain_text(text.splitlines()[0].strip())


def fill_answers_in_browser(page, nb, nb_path, answers, only=None):
    """Type the given answers into the answer cells of the open notebook (by cell index)."""
    model = nbformat.read(nb_path, as_version=4)
    cells = nb.locator(".jp-Notebook .jp-Cell")
    expect(cells).to_have_count(len(model.cells))
    filled = []
    for i, cell in enumerate(model.cells):
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if not meta.get("solution") or gid not in answers or (only and gid not in only):
            continue
        expect(cells.nth(i)).to_contain_text("YOUR")  # the stub the student replaces
        type_into_cell(page, nb, i, answers[gid], markdown=cell.cell_type == "markdown")
        filled.append(gid)
    return filled


def save(page, nb_path):
    """Control+s in the open notebook (``nb_path`` on disk); returns once the server has
    written it (its PUT answered). The tab's dirty mark alone is no proof: it is drawn a
    frame after an edit, so it can still be missing (and the check pass) before the save
    has even started."""
    name = quote(Path(nb_path).name)
    with page.expect_response(lambda r: r.request.method == "PUT" and "/api/contents/" in r.url
                              and r.url.split("?")[0].endswith(name)) as saved:
        page.keyboard.press("Control+s")
    assert saved.value.ok, saved.value.status
    expect(page.locator(".lm-TabBar-tab.lm-mod-current.jp-mod-dirty")).to_have_count(0)


def run_all(page, nb, nb_path):
    menu(page, "Run", "Run All Cells")
    model = nbformat.read(nb_path, as_version=4)
    last_code = max(i for i, c in enumerate(model.cells) if c.cell_type == "code")
    prompt = nb.locator(".jp-Notebook .jp-Cell").nth(last_code).locator(".jp-InputPrompt")
    expect(prompt).to_have_text(re.compile(r"\[\d+\]"))
    errors = nb.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    expect(errors).to_have_count(0)


# --------------------------------------------------------------------------- the journey

def test_student_and_ta_journey(course, hub, login, accounts):
    aid = course.assignment
    source = course.root / "source" / aid
    lab_nb = LAB_NOTEBOOK
    written_nb, written_id = WRITTEN
    home = course.homes / ALICE

    # --- student: log in, Assignments tab, fetch ---------------------------------------------
    page = login(ALICE)
    shot(page, "01_login")
    open_lab(page, ALICE)
    open_nbgrader_menu(page)  # students get the Assignment List only
    expect(page.locator(".lm-Menu-itemLabel", has_text=re.compile("Formgrader|Course List"))).to_have_count(0)
    close_nbgrader_menu(page)
    panel = open_assignment_list(page)
    released = panel.locator("#released_assignments_list .list_item", has_text=aid)
    expect(released).to_contain_text(COURSE_ID)
    shot(page, "02_assignments_released")
    released.get_by_role("button", name="Fetch").click()
    fetched = panel.locator("#fetched_assignments_list > .list_item", has_text=aid).first
    expect(fetched).to_be_visible()
    fetched.locator("a.assignment-notebooks-link").click()
    expect(fetched.locator(".nested_list_item", has_text=lab_nb)).to_be_visible()
    shot(page, "03_fetched")
    assert (home / aid / f"{lab_nb}.ipynb").exists()

    # --- student: problem 2 in JupyterLab: answer, run, watch the animation, validate -------
    nb_path = home / aid / f"{lab_nb}.ipynb"
    nb = open_notebook(page, panel, aid, lab_nb)
    answers = solution_cells(source / f"{lab_nb}.ipynb")
    assert fill_answers_in_browser(page, nb, nb_path, answers)
    save(page, nb_path)
    run_all(page, nb, nb_path)
    save(page, nb_path)
    shot(page, "04_notebook_run")
    anim = nb.locator(".jp-OutputArea-output .animation").first
    anim.scroll_into_view_if_needed()
    expect(anim).to_be_visible()
    frame = anim.locator("img[id^='_anim_img']")
    slider = anim.locator("input.anim-slider")
    expect(frame).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    anim.get_by_role("button", name="Pause").click()
    anim.get_by_role("button", name="First frame").click()
    expect(slider).to_have_value("0")
    first_src = frame.get_attribute("src")
    anim.get_by_role("button", name="Next frame").click()
    anim.get_by_role("button", name="Next frame").click()
    expect(slider).to_have_value("2")  # the player's JavaScript ran: a trusted output
    assert frame.get_attribute("src") != first_src
    shot(page, "05_sliding_filter_animation", anim)

    nb.locator(".jp-Toolbar-item", has_text="Validate").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Success! Your notebook passes all the tests.")
    shot(page, "06_validate")
    dialog.get_by_role("button").last.click()
    expect(dialog).to_have_count(0)

    # --- student: a written answer in problem 1 ----------------------------------------------
    panel = open_assignment_list(page)
    wnb = open_notebook(page, panel, aid, written_nb)
    assert fill_answers_in_browser(page, wnb, home / aid / f"{written_nb}.ipynb",
                                   {written_id: WRITTEN_ANSWER}) == [written_id]
    save(page, home / aid / f"{written_nb}.ipynb")
    saved = nbformat.read(home / aid / f"{written_nb}.ipynb", as_version=4)
    assert any(c.source == WRITTEN_ANSWER for c in saved.cells)

    # --- student: submit --------------------------------------------------------------------
    panel = open_assignment_list(page)
    panel.locator("#fetched_assignments_list > .list_item", has_text=aid).first \
        .get_by_role("button", name="Submit").click()
    submitted = panel.locator("#submitted_assignments_list .list_item", has_text=aid)
    expect(submitted.first).to_be_visible()
    shot(page, "07_submitted")
    inbound = list((course.exchange / COURSE_ID / "inbound").glob(f"{ALICE}+{aid}+*"))
    assert len(inbound) == 1

    # --- a student cannot open the graders' service ------------------------------------------
    resp = page.goto(hub.url + f"/services/{COURSE_ID}/formgrader")
    assert resp.status == 403, resp.status
    assert page.goto(hub.url + f"/user/{ALICE}/formgrader").status == 404
    page.goto(hub.url + f"/user/{ALICE}/lab")

    # --- TA: the graders' JupyterLab (hub service), Nbgrader > Formgrader, collect ----------
    ta = login(TA1, next_url=f"/services/{COURSE_ID}/lab")
    ta.click("#login_submit")
    ta.wait_for_url(f"**/services/{COURSE_ID}/lab**")
    open_nbgrader_menu(ta, "Formgrader").click()
    fg = ta.get_by_role("tabpanel", name="Formgrader").frame_locator("iframe")
    expect(fg.locator("tr", has_text=aid).first.locator("td.collect a")).to_be_visible()
    shot(ta, "08_formgrader_in_lab")
    formgrader_action(ta, aid, "collect", "Successfully collected", root=fg)
    assert (course.root / "submitted" / ALICE / aid).is_dir()

    # --- TA: the class grading command -----------------------------------------------------
    grader = (Person(course, GRADER, "grader", accounts[GRADER]) if accounts
              else Person(course, TA1, "grader"))
    grade_class(course, grader)

    # --- TA: formgrader, grade the written answer --------------------------------------------
    ta.goto(hub.url + f"/services/{COURSE_ID}/formgrader/gradebook/{aid}/{written_nb}")
    ta.get_by_role("link", name="Submission #1").click()
    score = ta.locator(f"input.score#{written_id}")
    expect(score).to_be_visible()
    # Formgrader binds the inputs to its models on the page's load event, once it has fetched
    # them: wait for that state (typing earlier is lost, and no PUT is ever sent).
    # (GradeUI marks a score input that needs grading once it is bound to its model.)
    expect(ta.locator(f"input.score.needs_manual_grade#{written_id}")).to_be_visible()
    ta.locator(f"#{written_id}").scroll_into_view_if_needed()
    expect(ta.locator("body")).to_contain_text(WRITTEN_ANSWER)
    with ta.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT"):
        score.fill("1.5")
        score.press("Tab")
    comment = ta.locator(f"textarea#{written_id}-comment")
    with ta.expect_response(lambda r: "/formgrader/api/comment/" in r.url and r.request.method == "PUT"):
        comment.fill(TA_COMMENT)
        comment.press("Tab")
    shot(ta, "09_formgrader_manual_grade")
    gb = course.gradebook()
    try:
        grade = gb.find_grade(written_id, written_nb, aid, ALICE)
        assert grade.manual_score == 1.5
        assert gb.find_comment(written_id, written_nb, aid, ALICE).manual_comment == TA_COMMENT
    finally:
        gb.close()

    # --- TA: formgrader, generate + release feedback -----------------------------------------
    ta.goto(hub.url + f"/services/{COURSE_ID}/formgrader/manage_assignments")
    formgrader_action(ta, aid, "generate-feedback", "Successfully generated feedback")
    formgrader_action(ta, aid, "release-feedback", "Successfully released feedback",
                      screenshot="10_formgrader_feedback_released")

    # --- student: fetch and read the feedback -------------------------------------------------
    panel = open_assignment_list(page)
    sub = panel.locator("#submitted_assignments_list .list_item", has_text=aid).first
    sub.get_by_role("button", name="Fetch Feedback").click()
    link = panel.locator("#submitted_assignments_list").get_by_text("view feedback").first
    expect(link).to_be_visible()
    shot(page, "11_feedback_fetched")
    feedback_dir = home / aid / "feedback"
    htmls = sorted(feedback_dir.glob(f"*/{written_nb}.html"))
    assert htmls, list(feedback_dir.rglob("*"))
    fb = page.context.new_page()
    rel = htmls[-1].relative_to(home).as_posix()
    fb.goto(hub.url + f"/user/{ALICE}/files/{rel}")
    expect(fb.locator("body")).to_contain_text(WRITTEN_ANSWER)
    comment_shown = fb.get_by_text(TA_COMMENT)
    expect(comment_shown).to_be_visible()
    comment_shown.scroll_into_view_if_needed()
    shot(fb, "12_feedback_page")
    hidden = hidden_test_lines(source)
    for h in feedback_dir.rglob("*.html"):  # alice left 03 and 04 as stubs: tracebacks too
        in_source, in_traceback = feedback_leaks(h, hidden)
        assert not in_source, f"hidden tests shown in the feedback {h.name}: {in_source[:3]}"
        assert not in_traceback, f"hidden tests quoted by a traceback in {h.name}: {in_traceback[:3]}"


def formgrader_action(ta, aid, column, success, screenshot=None, root=None):
    """Click an icon of the assignment's row in Manage Assignments; wait for its result modal.
    `root`: the formgrader frame when it is the panel inside the graders' JupyterLab."""
    root = root or ta
    root.locator("tr", has_text=aid).first.locator(f"td.{column} a").click()
    modal = root.locator("#success-modal, #error-modal").first
    expect(modal).to_be_visible()
    text = modal.inner_text()
    if screenshot:
        shot(ta, screenshot)
    assert success in text, f"formgrader {column} failed:\n{text}"
    modal.get_by_role("button", name="Close").click()
    expect(root.locator("#success-modal, #error-modal")).to_have_count(0)


def grade_class(course, grader: Person):
    """The TA's one command for the whole class, run by ``grader`` (the account that owns the
    course). Without the sandbox if it cannot work here (``sandbox-check`` says why)."""
    cmd = [sys.executable, "-m", "autograder", "grade", course.assignment,
           "--course", str(course.root), "--no-feedback", "--quiet"]
    if grader.run([sys.executable, "-m", "autograder", "sandbox-check"]).returncode != 0:
        cmd.append("--no-sandbox")
    proc = grader.run(cmd, timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert_submission_secrets_kept(course)
    with course.gradebook() as gb:
        assert gb.find_submission(course.assignment, ALICE).code_score > 0


def assert_submission_secrets_kept(course):
    """nbgrader's release_feedback names each student's feedback file after a hash keyed by
    the submission's submission_secret.txt, which generate_feedback takes from autograded/:
    the class grading command's staged copy must keep it, or "Release Feedback" fails."""
    for sub in sorted((course.root / "submitted").glob(f"*/{course.assignment}")):
        graded = course.root / "autograded" / sub.parent.name / course.assignment
        if (sub / "submission_secret.txt").exists() and graded.is_dir():
            assert (graded / "submission_secret.txt").exists(), f"no submission_secret.txt in {graded}"
