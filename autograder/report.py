"""The class report: one self-contained HTML file a TA opens in a browser.

    python -m autograder report section03      # reports/section03-class-report.html

Sections: overview and per-student table; score distribution of every graded question
(matplotlib, embedded as PNG data URIs); the recognised mistakes, most frequent first
(from the grader's verdicts in the run's state file); submissions whose grading
hit a timeout, a dead kernel or intake problems, with the reasons; the manual
grading still to do (from the gradebook).
"""
from __future__ import annotations

import base64
import collections
import datetime as dt
import html
import io
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .course import Course



def _esc(value) -> str:
    return html.escape(str(value), quote=True)


# ------------------------------------------------------------------------------------------
# Data

def gradebook_data(course: Course) -> dict:
    """Scores per student and question, max scores, manual grading to do."""
    out = {"notebooks": [], "questions": [], "max": {}, "kind": {}, "scores": {}, "totals": {},
           "pending": []}
    with Gradebook(course.db_url) as gb:
        try:
            assignment = gb.find_assignment(course.assignment)
        except MissingEntry:
            return out
        out["notebooks"] = [nb.name for nb in assignment.notebooks]
        for nb in assignment.notebooks:
            for cell in nb.grade_cells:
                key = (nb.name, cell.name)
                out["questions"].append(key)
                out["max"][key] = cell.max_score
                out["kind"][key] = "auto" if cell.cell_type == "code" else "manual"
        for sub in assignment.submissions:
            student = sub.student.id
            out["totals"][student] = (sub.score, sub.max_score)
            for nb in sub.notebooks:
                for g in nb.grades:
                    # None: waiting for a grader (no manual score, no automatic one)
                    value = g.manual_score if g.manual_score is not None else g.auto_score
                    out["scores"][(student, nb.name, g.name)] = value
                    if g.needs_manual_grade:
                        out["pending"].append((student, nb.name, g.name))
    return out


def mistakes_found(course: Course) -> dict:
    """slug -> {"count": n, "students": set, "questions": Counter} from the grader's verdicts.

    The verdicts are the ones the trusted grader recorded for each student in the run's
    state file; nothing is parsed from notebook outputs, which a student could have printed.
    """
    from .grade import load_state

    found: dict[str, dict] = {}
    students = load_state(course).get("students", {})
    for student, record in sorted(students.items()):
        for notebook, info in sorted(record.get("notebooks", {}).items()):
            for question, verdict in sorted((info.get("verdicts") or {}).items()):
                slug = verdict.get("slug")
                if verdict.get("passed") or not slug:
                    continue
                entry = found.setdefault(slug, {"count": 0, "students": set(),
                                                "questions": collections.Counter(), "named": {}})
                entry["count"] += 1
                entry["students"].add(student)
                entry["questions"][f"{notebook}/test_{question}"] += 1
                named = {(notebook, f"test_{q}") for q, v in (info.get("verdicts") or {}).items()
                         if v.get("slug")}
                entry["named"].setdefault(student, set()).update(named)
    return found


def grading_problems(course: Course) -> list[dict]:
    """From the last runs' state: per student, what went wrong while grading."""
    from .grade import load_state

    problems = []
    for student, record in sorted(load_state(course)["students"].items()):
        rows = []
        if record.get("status") != "graded":
            rows.append(("grading failed", "; ".join(record.get("issues", [])[:3])))
        for nb, info in sorted(record.get("notebooks", {}).items()):
            if info.get("status") in ("missing", "corrupt", "error"):
                rows.append((f"{nb}: {info['status']}", info.get("error", "")))
            if info.get("kernel", "ok") != "ok":
                rows.append((f"{nb}: kernel", info["kernel"]))
            for index in info.get("timeouts", []):
                rows.append((f"{nb}: timeout", f"cell {index} did not finish in time"))
            if info.get("not_run"):
                rows.append((f"{nb}: not run", f"{info['not_run']} cell(s) after the failure"))
        intake = record.get("intake", {})
        if intake.get("removed_files"):
            rows.append(("files ignored", ", ".join(intake["removed_files"][:10])))
        if intake.get("unexpected_notebooks"):
            rows.append(("unexpected notebooks", ", ".join(intake["unexpected_notebooks"])))
        for nb, info in sorted(record.get("notebooks", {}).items()):
            if info.get("repairs"):
                rows.append((f"{nb}: cells repaired", "; ".join(info["repairs"][:5])))
        for nb, why in intake.get("corrupt", {}).items():
            rows.append((f"{nb}: unreadable", why))
        if rows:
            problems.append({"student": student, "rows": rows})
    return problems


# ------------------------------------------------------------------------------------------
# Plots

def _png_data_uri(fig, dpi: int = 96) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def distribution_plots(data: dict) -> dict[str, str]:
    """notebook -> PNG data URI: one small histogram per graded question."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    students = sorted(data["totals"])
    images = {}
    for notebook in data["notebooks"]:
        questions = [q for q in data["questions"] if q[0] == notebook]
        if not questions or not students:
            continue
        cols = min(4, len(questions))
        rows = (len(questions) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
        for ax, (nb, question) in zip(axes.flat, questions):
            maximum = data["max"][(nb, question)]
            values = [data["scores"].get((s, nb, question)) for s in students]
            graded = [v for v in values if v is not None]
            counts = collections.Counter(round(v, 2) for v in graded)
            xs = sorted(set(counts) | {0.0, float(maximum)})
            ax.bar([str(x) for x in xs], [counts.get(x, 0) for x in xs], color="#0072B2",
                   edgecolor="black")
            kind = data["kind"][(nb, question)]
            ax.set_title(f"{question} ({kind}, max {maximum:g})", fontsize=11)
            ax.tick_params(labelsize=10)
            ax.set_ylabel("students", fontsize=10)
            missing = len(values) - len(graded)
            if missing:
                ax.text(0.98, 0.95, f"{missing} ungraded", transform=ax.transAxes,
                        ha="right", va="top", fontsize=10, color="#D55E00")
        for ax in list(axes.flat)[len(questions):]:
            ax.axis("off")
        fig.suptitle(notebook, fontsize=12)
        fig.tight_layout()
        images[notebook] = _png_data_uri(fig)
    return images


def total_histogram(data: dict) -> str | None:
    import matplotlib.pyplot as plt

    totals = [score for score, _ in data["totals"].values()]
    if not totals:
        return None
    maximum = max(m for _, m in data["totals"].values()) or 1
    fig, ax = plt.subplots(figsize=(6, 2.4))
    ax.hist(totals, bins=min(20, max(5, len(set(totals)))), range=(0, maximum),
            color="#009E73", edgecolor="black")
    ax.set_xlabel("total score")
    ax.set_ylabel("students")
    return _png_data_uri(fig)


def score_summary(data: dict, students: list[str]) -> str:
    """Autograded points and written answers reported apart: ungraded answers are not zeros."""
    auto = [q for q in data["questions"] if data["kind"][q] == "auto"]
    manual = [q for q in data["questions"] if data["kind"][q] == "manual"]
    auto_max = sum(data["max"][q] for q in auto)
    auto_totals = [sum(data["scores"].get((s, *q)) or 0 for q in auto) for s in students]
    mean = sum(auto_totals) / len(auto_totals)
    median = sorted(auto_totals)[len(auto_totals) // 2]
    text = (f"<p><strong>Autograded:</strong> mean {mean:.1f} of {auto_max:g}, median "
            f"{median:.1f}.")
    if manual:
        manual_max = sum(data["max"][q] for q in manual)
        graded = [(s, q) for s in students for q in manual if data["scores"].get((s, *q)) is not None]
        pending = len(students) * len(manual) - len(graded)
        if graded:
            got = sum(data["scores"][(s, *q)] for s, q in graded)
            of = sum(data["max"][q] for _s, q in graded)
            text += (f" <strong>Written answers</strong> ({manual_max:g} points each student): "
                     f"{got:g} of {of:g} points in the {len(graded)} answers graded so far")
        else:
            text += f" <strong>Written answers</strong> ({manual_max:g} points each student): none graded yet"
        text += f"; {pending} still to grade.</p>" if pending else ".</p>"
    else:
        text += "</p>"
    return text


def knock_on(data: dict, entry: dict) -> float:
    """Points a mistake's students lost in other autograded questions of the same notebook
    whose own verdict named no mistake."""
    lost = 0.0
    notebooks = {q.split("/")[0] for q in entry["questions"]}
    for student in entry["students"]:
        named = entry.get("named", {}).get(student, set())
        for nb, q in data["questions"]:
            if nb not in notebooks or data["kind"][(nb, q)] != "auto" or (nb, q) in named:
                continue
            value = data["scores"].get((student, nb, q))
            if value is not None and value < data["max"][(nb, q)]:
                lost += data["max"][(nb, q)] - value
    return lost


def lost_points_heatmap(data: dict) -> str | None:
    """PNG data URI: students (rows) x questions (columns), the share of points lost."""
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Rectangle

    students = sorted(data["totals"])
    questions = data["questions"]
    if not students or not questions:
        return None
    share = np.zeros((len(students), len(questions)))
    pending = []
    for i, s in enumerate(students):
        for j, q in enumerate(questions):
            value, maximum = data["scores"].get((s, *q)), data["max"][q] or 1
            if value is None:
                pending.append((i, j))
            else:
                share[i, j] = (maximum - value) / maximum
    fig, ax = plt.subplots(figsize=(max(6, 0.32 * len(questions) + 2), max(2.5, 0.22 * len(students) + 1.8)))
    ax.imshow(share, cmap="Oranges", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    for i, j in pending:
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="#DDDDDD", hatch="//",
                               edgecolor="#999999", linewidth=0))
    ax.set_xticks(range(len(questions)), [q for _nb, q in questions], rotation=90, fontsize=8)
    ax.set_yticks(range(len(students)), students, fontsize=8)
    for boundary in [j + 0.5 for j in range(len(questions) - 1) if questions[j][0] != questions[j + 1][0]]:
        ax.axvline(boundary, color="#0072B2", linewidth=1.5)
    fig.tight_layout()
    return _png_data_uri(fig, dpi=96)


# ------------------------------------------------------------------------------------------
# HTML

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:72em;color:#222}
h1{font-size:1.6em} h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em} td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}
th{background:#eef4fa} td.num{text-align:right} .muted{color:#666} img{max-width:100%}
.warn{color:#D55E00;font-weight:bold} code{background:#f4f4f4;padding:0 .2em}
"""


def render(course: Course, data: dict, mistakes: dict, problems: list[dict]) -> str:
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>{_esc(course.assignment)}: class report</title><style>{CSS}</style></head><body>"]
    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    students = sorted(data["totals"])
    parts.append(f"<h1>{_esc(course.assignment)}: class report</h1>"
                 f"<p class='muted'>{len(students)} submissions, generated {now} from "
                 f"{_esc(course.db_url)}</p>")
    parts.append("<nav><a href='#scores'>Scores</a> · <a href='#mistakes'>Mistakes</a> · "
                 "<a href='#problems'>Grading problems</a> · <a href='#manual'>Manual grading</a>"
                 " · <a href='#students'>Students</a></nav>")

    # scores
    parts.append("<h2 id='scores'>Score distribution</h2>")
    if students:
        parts.append(score_summary(data, students))
        uri = total_histogram(data)
        if uri:
            parts.append(f"<img alt='histogram of total scores' src='{uri}'>")
        parts.append("<table><tr><th>notebook</th><th>question</th><th>kind</th><th>max</th>"
                     "<th>mean of graded</th><th>full marks</th><th>zero</th><th>still to grade</th></tr>")
        for nb, q in data["questions"]:
            values = [data["scores"].get((s, nb, q)) for s in students]
            graded = [v for v in values if v is not None]
            maximum_q = data["max"][(nb, q)]
            mean_q = f"{sum(graded) / len(graded):.2f}" if graded else "-"
            full = sum(1 for v in graded if v >= maximum_q)
            zero = sum(1 for v in graded if v == 0)
            parts.append(f"<tr><td>{_esc(nb)}</td><td>{_esc(q)}</td><td>{data['kind'][(nb, q)]}</td>"
                         f"<td class='num'>{maximum_q:g}</td><td class='num'>{mean_q}</td>"
                         f"<td class='num'>{full}</td><td class='num'>{zero}</td>"
                         f"<td class='num'>{len(values) - len(graded) or ''}</td></tr>")
        parts.append("</table>")
        heat = lost_points_heatmap(data)
        if heat:
            parts.append("<h3>Where points were lost</h3><p class='muted'>Points lost per student "
                         "and question (darker: more of the question's points lost; grey "
                         "hatching: a written answer still to grade).</p>"
                         f"<img alt='heat map of points lost per student and question' src='{heat}'>")
        for notebook, uri in distribution_plots(data).items():
            parts.append(f"<h3>{_esc(notebook)}</h3><img alt='score distribution per question of "
                         f"{_esc(notebook)}' src='{uri}'>")
    else:
        parts.append("<p>No submissions graded yet.</p>")

    # mistakes
    parts.append("<h2 id='mistakes'>Most frequent recognised mistakes</h2>")
    if mistakes:
        parts.append("<p class='muted'>Knock-on: points the same students lost in <em>other</em> "
                     "autograded questions of the same notebook that named no mistake of their own "
                     "(one mistake should cost once: expect 0).</p>")
        parts.append("<table><tr><th>mistake</th><th>times</th><th>students</th>"
                     "<th>where</th><th>knock-on</th><th>who</th></tr>")
        for slug, entry in sorted(mistakes.items(), key=lambda kv: (-len(kv[1]["students"]), kv[0])):
            where = ", ".join(f"{_esc(q)} ({n})" for q, n in entry["questions"].most_common())
            who = ", ".join(_esc(s) for s in sorted(entry["students"])[:12])
            if len(entry["students"]) > 12:
                who += f" and {len(entry['students']) - 12} more"
            knock = knock_on(data, entry)
            parts.append(f"<tr><td><code>{_esc(slug)}</code></td><td class='num'>{entry['count']}</td>"
                         f"<td class='num'>{len(entry['students'])}</td><td>{where}</td>"
                         f"<td class='num'>{knock:g}</td><td>{who}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>No recognised mistakes in the autograded notebooks.</p>")

    # problems
    parts.append("<h2 id='problems'>Grading problems (timeouts, crashes, files)</h2>")
    if problems:
        parts.append("<table><tr><th>student</th><th>what</th><th>why</th></tr>")
        for entry in problems:
            for i, (what, why) in enumerate(entry["rows"]):
                name = _esc(entry["student"]) if i == 0 else ""
                cls = " class='warn'" if "failed" in what else ""
                parts.append(f"<tr><td>{name}</td><td{cls}>{_esc(what)}</td><td>{_esc(why)}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>None: every submission ran to the end within its limits.</p>")

    # manual grading
    parts.append("<h2 id='manual'>Manual grading still to do</h2>")
    if data["pending"]:
        by_question = collections.defaultdict(list)
        for student, nb, q in data["pending"]:
            by_question[(nb, q)].append(student)
        parts.append(f"<p>{len(data['pending'])} answers in formgrader.</p><table><tr>"
                     "<th>notebook</th><th>question</th><th>answers</th><th>students</th></tr>")
        for (nb, q), who in sorted(by_question.items()):
            names = ", ".join(_esc(s) for s in sorted(who)[:15])
            if len(who) > 15:
                names += f" and {len(who) - 15} more"
            parts.append(f"<tr><td>{_esc(nb)}</td><td>{_esc(q)}</td><td class='num'>{len(who)}</td>"
                         f"<td>{names}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>Nothing left to grade by hand.</p>")

    # students
    parts.append("<h2 id='students'>Students</h2><table><tr><th>student</th>"
                 + "".join(f"<th>{_esc(nb)}</th>" for nb in data["notebooks"])
                 + "<th>total</th><th>max</th></tr>")
    for s in students:
        cells = []
        for nb in data["notebooks"]:
            qs = [q for n, q in data["questions"] if n == nb]
            vals = [data["scores"].get((s, nb, q)) for q in qs]
            cells.append(f"<td class='num'>{sum(v for v in vals if v is not None):g}</td>")
        score, maximum = data["totals"][s]
        parts.append(f"<tr><td>{_esc(s)}</td>{''.join(cells)}<td class='num'>{score:g}</td>"
                     f"<td class='num'>{maximum:g}</td></tr>")
    parts.append("</table></body></html>")
    return "\n".join(parts)


def write_report(course: Course, dest: Path | None = None) -> Path:
    from .results import reports_dir

    dest = dest or reports_dir(course) / f"{course.assignment}-class-report.html"
    data = gradebook_data(course)
    text = render(course, data, mistakes_found(course), grading_problems(course))
    dest.write_text(text, encoding="utf-8")
    return dest
