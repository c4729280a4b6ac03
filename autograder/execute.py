"""``SandboxedExecute``: nbgrader's Execute preprocessor for hostile notebooks.

It stands in for ``nbgrader.preprocessors.Execute`` in ``Autograde.autograde_preprocessors``
(``nbgrader_config.py``), so ``nbgrader autograde``, formgrader's Autograde button and the
class command all run notebooks this way. It differs from nbgrader's in

* the kernel: :class:`~autograder.sandbox.SandboxKernelManager` (bubblewrap, limits, the
  student environment that holds no grading code), working in a throw-away copy of the
  student's folder, so nothing the student's code writes reaches the graded notebook;
* asking: after the notebook's last cell it sends the kernel each answer's request
  (planned by :class:`autograder.answers.PrepareChecks`) and keeps the decoded reply, plain
  data, for :class:`autograder.answers.CheckAnswers`. Asking last means no student cell
  runs after a request, so none can copy the hidden inputs into the graded notebook. If
  the kernel died, the cells before the fatal one are rerun in a fresh kernel (outputs
  thrown away) and the answers tested before it are asked there;
* failure handling: a dead kernel (``os._exit``, a limit, a crash), a kernel that stays
  busy after a timeout, or the notebook's wall-clock budget running out stops execution
  there, with the reason in that cell; :class:`MarkNotRun` then marks every later code
  cell as not run (plain nbgrader would give unexecuted test cells full marks);
* output beyond ``max_output_bytes`` per cell is dropped with a note;
* display-only cells (locked cells tagged ``grading-skip``: pictures, animations, the timing
  cell, self-checks; nothing a test reads) are not run, and say so. A student's own tag is
  ignored here and removed before (:mod:`autograder.repair`).

What happened (timeouts, the kernel's fate) is in ``resources["autograder"]["run"]``
and in the notebook's metadata (``metadata.autograder_run``), for the class grader.
"""
from __future__ import annotations

import os
import signal
import time
import uuid

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader import utils as nbutils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Integer, Unicode

from . import asking, wire
from .timings import RESOURCES_KEY as TIMINGS
from .answers import autograded_test_name, state
from .fstree import remove_tree
from .sandbox import SandboxKernelManager

SIGNAL_REASONS = {
    signal.SIGKILL: "killed (memory or process limit reached, or killed by the grader)",
    signal.SIGXCPU: "CPU time limit reached",
    signal.SIGXFSZ: "file size limit reached",
    signal.SIGSEGV: "crashed (segmentation fault)",
    signal.SIGABRT: "aborted (often: out of memory inside a C library)",
    signal.SIGBUS: "crashed (bus error)",
    signal.SIGTERM: "terminated",
}


def _lap(timings: dict, name: str, since: float) -> float:
    """Add the seconds since ``since`` to ``timings[name]``; return the time now."""
    now = time.perf_counter()
    timings[name] = timings.get(name, 0.0) + now - since
    return now


def _shut_down(km, scratch: str, log_path: str) -> None:
    """Stop a kernel that ran nothing and remove its folders."""
    try:
        run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 -- already gone
        pass
    try:
        run_sync(km.cleanup_resources)()
    except Exception:  # noqa: BLE001
        pass
    remove_tree(scratch)
    remove_tree(log_path)


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"])


class SandboxedExecute(Execute):
    """Execute preprocessor with the sandbox, asking and failure handling."""

    scratch_root = Unicode("", help="where per-notebook scratch folders are made "
                                    "(default: beside the notebook's folder)").tag(config=True)
    notebook_budget = Integer(900, help="wall-clock seconds for one notebook").tag(config=True)
    unresponsive_grace = Integer(10, help="seconds a kernel may stay busy after a timeout").tag(config=True)
    max_output_bytes = Integer(2_000_000, help="output kept per cell").tag(config=True)
    ask_timeout = Integer(60, help="seconds the kernel has to answer one hidden test").tag(config=True)
    repeat_timeout = Integer(
        10, help="once a cell or hidden test of a notebook has run out of time, each later one "
                 "gets at most this many seconds: code that hung once (an infinite loop) is "
                 "almost always called again, and a hang should cost its time once").tag(config=True)
    display_only_tag = Unicode(
        "grading-skip", help="locked cells with this tag (pictures, animations, timings: "
                             "nothing a test reads) are not run when grading").tag(config=True)
    display_only_note = Unicode(
        "[display only: not run when grading; run the cell in your notebook to see it]\n",
        help="what a display-only cell shows in the graded notebook and feedback").tag(config=True)

    prestart_next = Bool(False, help="while this notebook is graded, start the kernel for the next "
                                     "notebook of the same submission (the class grader sets it)").tag(config=True)

    #: the kernel started for the next notebook: (key, manager, scratch folder, log path)
    _spare = None

    # ---------------------------------------------------------------------------------
    def create_kernel_manager(self):
        self.km = SandboxKernelManager(kernel_name=self.kernel_name or "python3",
                                       config=self.config, log_path=self._log_path,
                                       source_dir=self._source_dir)
        return self.km

    def _get_timeout(self, cell):
        timeout = self._limit(cell)
        remaining = max(1, int(self._deadline - time.monotonic()))
        return remaining if timeout is None else min(timeout, remaining)

    def _limit(self, cell=None) -> int | None:
        """Seconds the next cell or hidden test may run: ``timeout`` (``ask_timeout`` while
        asking), at most ``repeat_timeout`` once anything in this notebook has timed out."""
        timeout = super()._get_timeout(cell)
        if self._hung and timeout is not None:
            timeout = min(timeout, self.repeat_timeout)
        return timeout

    async def _async_handle_timeout(self, timeout, cell=None):
        self._timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    def process_message(self, msg, cell, cell_index):
        # While the grader asks for answers, only the reply's stream and the end of the
        # request count: a display update, a cleared output or a widget message from the
        # student's function could otherwise carry the hidden inputs into an earlier cell.
        if self._asking and msg["msg_type"] not in ("status", "stream", "error", "execute_input"):
            return None
        return super().process_message(msg, cell, cell_index)

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(str(content)) if msg["msg_type"] != "status" else 0
        self._cell_bytes += size
        if self._cell_bytes > self._output_cap:
            self._truncated = True
            return None
        return super().output(outs, msg, display_id, cell_index)

    # ---------------------------------------------------------------------------------
    def preprocess(self, nb, resources=None, km=None):
        from nbclient.client import NotebookClient

        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.shutdown_kernel = "immediate"
        notebook_id = (resources or {}).get("nbgrader", {}).get("notebook", "notebook")
        agstate = state(self.resources)
        run = {"notebook": notebook_id, "events": [], "kernel": "ok", "timeouts": [],
               "truncated": []}
        agstate["run"] = run
        self._deadline = time.monotonic() + self.notebook_budget
        self._timed_out = False
        self._hung = False  # something of this notebook has timed out: see repeat_timeout
        self._cell_bytes = 0
        self._truncated = False
        self._output_cap = self.max_output_bytes
        self._asking = False

        metadata = self.resources.setdefault("metadata", {})
        original_path = metadata.get("path") or os.getcwd()
        spare = self._take_spare(original_path)
        run["prestarted"] = spare is not None
        if spare is not None:
            self.km, self._scratch, self._log_path = spare
            self._source_dir = original_path
        else:
            self._scratch = self._make_scratch(original_path, notebook_id)
            self._log_path = self._scratch + ".kernel.log"
        metadata["path"] = self._scratch
        stopped_at = None
        timings = agstate.setdefault(TIMINGS, {})
        timings["cells"] = {}
        clock = time.perf_counter()
        try:
            try:
                with self.setup_kernel():
                    info_msg = self.wait_for_reply(self.kc.kernel_info())
                    self.km.seal_sockets()
                    clock = _lap(timings, "kernel_start", clock)
                    if info_msg:
                        self.nb.metadata["language_info"] = info_msg["content"].get(
                            "language_info", {})
                    stopped_at = self._run_cells(run)
                    clock = time.perf_counter()
                    if stopped_at is None or run["kernel"] == "ok":
                        self._ask_all(agstate, run, len(self.nb.cells))
                    clock = _lap(timings, "asking", clock)
                clock = _lap(timings, "kernel_stop", clock)
                if stopped_at is not None and run["kernel"] != "ok":
                    self._replay_and_ask(agstate, run, stopped_at[0] - 1)
                    clock = _lap(timings, "replay", clock)
                if self.prestart_next:
                    # after this notebook's last kernel is gone: never two kernels of the
                    # sandbox's uid running student code at once; it boots while this
                    # notebook is checked, sanitised and saved
                    self._start_spare(original_path)
                    clock = _lap(timings, "prestart", clock)
            except Exception as exc:  # kernel failed to start, or nbclient gave up
                if stopped_at is None:
                    reason = f"the kernel could not be run: {type(exc).__name__}: {exc}"
                    stopped_at = (0, reason)
                    run["kernel"] = reason
                    run["events"].append(reason)
        finally:
            metadata["path"] = original_path
            run["kernel_log_tail"] = self._log_tail() if run["kernel"] != "ok" else ""
            for problem in remove_tree(self._scratch) + remove_tree(self._log_path):
                run["events"].append(f"clean-up: {problem}")
        agstate["stopped"] = stopped_at
        self.nb.metadata["autograder_run"] = {k: run[k] for k in ("kernel", "timeouts", "truncated", "events",
                                                                    "kernel_log_tail", "prestarted")}
        return self.nb, self.resources

    # ---------------------------------------------------------------------------------
    # The next notebook's kernel, started while this one is graded. Each kernel still runs
    # one notebook only: the spare is a fresh sandbox with the submission's files, unused
    # until the next notebook of the same submission (same folder, same settings) takes it.

    def _spare_key(self, source_dir: str) -> str:
        return repr((os.path.abspath(source_dir), self.kernel_name,
                     sorted(self.config.get("SandboxKernelManager", {}).items())))

    def _start_spare(self, source_dir: str) -> None:
        """Launch the kernel for the next notebook (not waiting for it to be ready)."""
        type(self).discard_spare()
        scratch = self._make_scratch(source_dir, "next")
        km = SandboxKernelManager(kernel_name=self.kernel_name or "python3", config=self.config,
                                  log_path=scratch + ".kernel.log", source_dir=source_dir)
        try:
            run_sync(km.start_kernel)(cwd=scratch, extra_arguments=list(self.extra_arguments))
        except Exception as exc:  # noqa: BLE001 -- the next notebook starts its own kernel
            self.log.warning("could not start the next notebook's kernel: %s", exc)
            _shut_down(km, scratch, scratch + ".kernel.log")  # its socket folder and log too
            return
        type(self)._spare = (self._spare_key(source_dir), km, scratch, scratch + ".kernel.log")

    def _take_spare(self, source_dir: str):
        """``(manager, scratch, log path)`` of the spare kernel if it was started for this
        submission with these settings and is alive; otherwise None (and it is discarded)."""
        spare = type(self)._spare
        if spare is None:
            return None
        key, km, scratch, log_path = spare
        type(self)._spare = None
        if key == self._spare_key(source_dir) and run_sync(km.is_alive)():
            return km, scratch, log_path
        _shut_down(km, scratch, log_path)
        return None

    @classmethod
    def discard_spare(cls) -> None:
        """Stop the spare kernel, if any (the class grader calls it after each submission)."""
        spare, cls._spare = cls._spare, None
        if spare is not None:
            _shut_down(*spare[1:])

    def _make_scratch(self, source_dir: str, notebook_id: str) -> str:
        """An empty folder for this notebook's run; the kernel manager fills it."""
        root = self.scratch_root or os.path.join(os.path.dirname(os.path.abspath(source_dir)), ".scratch")
        os.makedirs(root, exist_ok=True)
        scratch = os.path.join(root, f"{notebook_id}-{uuid.uuid4().hex[:8]}")
        os.makedirs(scratch)
        self._source_dir = source_dir
        return scratch

    def _log_tail(self) -> str:
        try:
            with open(self._log_path, "rb") as fh:
                fh.seek(max(0, os.path.getsize(self._log_path) - 2000))
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _run_cell(self, cell, index, run) -> str | None:
        """Execute one cell; return why execution must stop, or None."""
        self._timed_out = False
        self._cell_bytes = 0
        self._truncated = False
        limit = self._limit(cell)
        try:
            self.execute_cell(cell, index, store_history=True)
        except DeadKernelError:
            reason = self._death_reason()
            cell.outputs.append(error_output("KernelDied", f"the kernel stopped in this cell: {reason}"))
            run["kernel"] = f"died in cell {index}: {reason}"
            run["events"].append(run["kernel"])
            return run["kernel"]
        except CellTimeoutError:
            self._timed_out = True
        finally:
            if self._truncated:
                cell.outputs.append(NotebookNode(
                    output_type="stream", name="stdout",
                    text=f"\n[output truncated by the autograder after {self.max_output_bytes} bytes]\n"))
                run["truncated"].append(index)
        if self._timed_out:
            self._hung = True
            run["timeouts"].append(index)
            if not any(o.output_type == "error" for o in cell.outputs):
                cell.outputs.append(error_output(
                    "CellTimeoutError", f"this cell did not finish within {limit} s"))
            run["events"].append(f"cell {index} timed out after {limit} s")
            if not self._responsive():
                reason = (f"the kernel stayed busy after cell {index} timed out "
                          "(it ignored the interrupt)")
                run["kernel"] = reason
                run["events"].append(reason)
                return reason
        return None

    def _run_cells(self, run):
        """Run every code cell in order; return ``(index, reason)`` where execution stopped, or None.

        The indices of the cells run are recorded in ``resources["autograder"]["executed"]``:
        the source rules read those cells only (a cell the kernel never ran defined nothing).
        """
        agstate = state(self.resources)
        executed = agstate.setdefault("executed", set())
        cell_seconds = agstate.setdefault(TIMINGS, {}).setdefault("cells", {})
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            tags = cell.metadata.get("tags", []) if nbutils.is_locked(cell) else []
            if self.skip_cells_with_tag in tags:
                continue  # the instructor's: nbclient's own skip
            if self.display_only_tag in tags:
                cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=self.display_only_note)]
                continue
            if time.monotonic() > self._deadline:
                reason = f"the notebook ran out of its time budget ({self.notebook_budget} s)"
                run["events"].append(reason)
                return (index, reason)
            executed.add(index)  # before running: a cell that fails part-way still ran
            clock = time.perf_counter()
            reason = self._run_cell(cell, index, run)
            cell_seconds[index] = time.perf_counter() - clock
            if reason:
                return (index + 1, reason)
        return None

    def _ask_all(self, agstate, run, before: int) -> None:
        """Ask the kernel for every planned answer whose test cell is before cell ``before``.

        Asking happens after the notebook's last cell, so no cell of the student's runs
        after a request and could copy it (the hidden inputs) into the graded notebook.
        """
        for index, cell in enumerate(self.nb.cells[:before]):
            name = autograded_test_name(cell)
            plan = agstate["plans"].get(name) if name else None
            if plan is None or name in agstate["replies"]:
                continue
            if self._ask(name, plan, agstate, run):
                break  # the kernel is gone or unresponsive: the rest cannot be asked

    def _replay_and_ask(self, agstate, run, dead_at: int) -> None:
        """After the kernel died in cell ``dead_at``: rerun the cells before it in a fresh
        kernel (their outputs are thrown away) and ask for the answers tested before it."""
        if not any(autograded_test_name(c) in agstate["plans"] for c in self.nb.cells[:dead_at]):
            return
        graded_cells = self.nb.cells
        self.nb.cells = [NotebookNode(dict(c, outputs=[])) if c.cell_type == "code" else c
                         for c in graded_cells[:dead_at]]
        agstate["executed"] = set()  # the answers come from this kernel: judge what it ran
        try:
            with self.setup_kernel():
                self.wait_for_reply(self.kc.kernel_info())
                self.km.seal_sockets()
                replay = {"events": [], "kernel": "ok", "timeouts": [], "truncated": []}
                if self._run_cells(replay) is None:
                    self._ask_all(agstate, run, dead_at)
        finally:
            self.nb.cells = graded_cells

    def _ask(self, name, plan, agstate, run) -> str | None:
        """Send one answer's request; keep the decoded reply. Returns why to stop, or None."""
        nonce = asking.new_nonce()
        probe = NotebookNode(cell_type="code", metadata={}, outputs=[], execution_count=None,
                             source=asking.request_code(plan.request, nonce))
        self.nb.cells.append(probe)
        saved_timeout, self.timeout = self.timeout, self.ask_timeout
        limit = self._limit()
        self._output_cap = wire.MAX_REPLY_BYTES + 4096
        self._asking = True
        try:
            reason = self._run_cell(probe, len(self.nb.cells) - 1, run)
        finally:
            self.timeout = saved_timeout
            self._output_cap = self.max_output_bytes
            self._asking = False
            self.nb.cells.pop()
        if self._timed_out:
            agstate["replies"][name] = (f"your code took longer than {limit} s on the "
                                        "hidden tests (an infinite loop, or very slow code).")
        else:
            agstate["replies"][name] = asking.read_reply(probe.outputs, nonce)
        if reason:
            agstate["replies"][name] = f"the notebook's kernel stopped while the grader checked it: {reason}"
        return reason

    def _responsive(self) -> bool:
        return run_sync(self._async_responsive)()

    async def _async_responsive(self) -> bool:
        try:
            msg_id = await ensure_async(self.kc.kernel_info())
            deadline = time.monotonic() + self.unresponsive_grace
            while time.monotonic() < deadline:
                reply = await ensure_async(self.kc.shell_channel.get_msg(
                    timeout=max(0.1, deadline - time.monotonic())))
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    return True
        except Exception:
            return False
        return False

    def _death_reason(self) -> str:
        status = None
        for _ in range(20):
            status = self.km.exit_status() if self.km is not None else None
            if status is not None:
                break
            time.sleep(0.05)
        if status is None:
            return "the kernel stopped responding"
        if status < 0:
            signum = -status
        elif status > 128:
            signum = status - 128  # bubblewrap reports a signal as 128 + signum
        else:
            return (f"the kernel process exited with status {status} "
                    "(os._exit(), exit() or a crash in the notebook's code)")
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        return f"{SIGNAL_REASONS.get(signum, 'killed by ' + name)} [{name}]"


class MarkNotRun(NbGraderPreprocessor):
    """Give every code cell after the point where execution stopped an error saying why.

    Without it nbgrader would score an unexecuted test cell (no output, no error) as full
    marks.
    """

    def preprocess(self, nb, resources):
        stopped = state(resources).get("stopped")
        if not stopped:
            return nb, resources
        start, reason = stopped
        for cell in nb.cells[start:]:
            if cell.cell_type == "code" and cell.source.strip():
                cell.outputs = [error_output("NotRun", f"not run: {reason}")]
        return nb, resources


class BoundOutputs(NbGraderPreprocessor):
    """Keep every cell's outputs, and the notebook's, within a size in bytes.

    Whatever way outputs got into a cell (streams, images, HTML, thousands of small outputs,
    a display update copied into every output sharing its ``display_id``), the graded
    notebook, and the feedback made from it, stay small. Past a limit a cell's outputs are
    replaced by a note, except what decides its grade: error outputs stay (shortened) and
    one line of stderr stays, so a failing test cell still scores zero.
    """

    max_cell_bytes = Integer(2_000_000, help="output bytes kept per cell").tag(config=True)
    max_notebook_bytes = Integer(8_000_000, help="output bytes kept per notebook").tag(config=True)
    max_error_chars = Integer(20_000, help="characters kept of an error's message and traceback").tag(config=True)

    max_text_chars = Integer(200_000, help="characters kept of a markdown or raw cell a student "
                             "wrote").tag(config=True)
    max_attachment_bytes = Integer(10_000_000, help="bytes of cell attachments (pasted images) "
                                   "kept per notebook").tag(config=True)

    def preprocess(self, nb, resources):
        budget, memo = self.max_notebook_bytes, {}
        attachment_budget = self.max_attachment_bytes
        for index, cell in enumerate(nb.cells):
            if cell.cell_type in ("markdown", "raw"):
                attachment_budget -= self._bound_text_cell(cell, index, attachment_budget, memo)
            if cell.cell_type != "code" or not cell.get("outputs"):
                continue
            allowed = min(self.max_cell_bytes, max(0, budget))
            kept, used, dropped = [], 0, 0
            for output in cell.outputs:
                size = output_size(output, memo)
                if used + size <= allowed:
                    kept.append(output)
                    used += size
                    continue
                dropped += size
                if output.get("output_type") == "error":
                    kept.append(self._short_error(output))
                elif output.get("output_type") == "stream" and output.get("name") == "stderr" and not any(
                        o.get("name") == "stderr" for o in kept if o.get("output_type") == "stream"):
                    kept.append(NotebookNode(output_type="stream", name="stderr",
                                             text=_text(output.get("text", ""))[:200]))
            if dropped:
                kept.append(NotebookNode(output_type="stream", name="stdout", text=(
                    f"\n[{dropped:,} bytes of output left out by the autograder: at most "
                    f"{self.max_cell_bytes:,} per cell and {self.max_notebook_bytes:,} per notebook are kept]\n")))
                self.log.warning("cell %d: %d bytes of output left out", index, dropped)
            cell.outputs = kept
            budget -= used
        return nb, resources

    def _bound_text_cell(self, cell, index: int, attachment_budget: int, memo: dict) -> int:
        """Cut a markdown or raw cell to ``max_text_chars`` and drop its attachments when they do
        not fit in ``attachment_budget`` bytes, saying so in the cell. Returns the bytes kept.

        The submitted notebook keeps the original: only the graded copy and feedback are cut.
        """
        notes = []
        source = _text(cell.get("source", ""))
        if len(source) > self.max_text_chars:
            notes.append(f"{len(source) - self.max_text_chars:,} characters of this cell")
            source = source[:self.max_text_chars]
        attachments = cell.get("attachments")
        size = _size(attachments, memo) if attachments else 0
        if size > max(0, attachment_budget):
            notes.append(f"its attachments ({size:,} bytes)")
            cell.pop("attachments")
            size = 0
        if notes:
            source += (f"\n\n*[{' and '.join(notes)} left out of the graded copy by the autograder: at "
                       f"most {self.max_text_chars:,} characters per cell and {self.max_attachment_bytes:,} "
                       "bytes of attachments per notebook are kept; your submitted notebook has them all]*\n")
            self.log.warning("cell %d: %s left out", index, " and ".join(notes))
            cell.source = source
        return size

    def _short_error(self, output) -> NotebookNode:
        """The error output ``output``, its message and traceback cut to ``max_error_chars``."""
        limit = self.max_error_chars
        lines, total = [], 0
        for line in output.get("traceback", []) or []:
            line = _text(line)[:limit - total]
            lines.append(line)
            total += len(line)
            if total >= limit:
                break
        return NotebookNode(output_type="error", ename=_text(output.get("ename", "Error"))[:200],
                            evalue=_text(output.get("evalue", ""))[:limit], traceback=lines)


def _text(value) -> str:
    """nbformat text: a string, or a list of strings."""
    return "".join(value) if isinstance(value, list) else str(value)


#: what one output costs in the notebook file beyond its content (its keys and nbformat's
#: indentation: 100-165 bytes) and in the feedback page (its HTML frame), rounded up; without
#: it 240,000 one-character displays counted as a few hundred kilobytes and filled 12 MB
OUTPUT_FRAME_BYTES = 200


def output_size(output, memo: dict | None = None) -> int:
    """About how many bytes ``output`` takes in the notebook file, without encoding it all.

    Text counts by length (constant time, however large), plus :data:`OUTPUT_FRAME_BYTES`.
    Other JSON values are encoded once each (``memo``, by identity: a display update shares
    one value among many outputs).
    """
    memo = {} if memo is None else memo
    size = OUTPUT_FRAME_BYTES
    for key, value in output.items():
        if key in ("data", "metadata") and isinstance(value, dict):
            size += sum(_size(item, memo) for item in value.values())
        elif key != "output_type":
            size += _size(value, memo)
    return size


def _size(value, memo: dict) -> int:
    import json

    if isinstance(value, str):
        return len(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sum(map(len, value))
    if id(value) not in memo:
        memo[id(value)] = (len(json.dumps(value, default=str)), value)  # value kept: id stays unique
    return memo[id(value)][0]
