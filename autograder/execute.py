"""``SandboxedExecute``: nbgrader's Execute preprocessor, hardened for hostile notebooks.

It replaces ``nbgrader.preprocessors.Execute`` in ``Autograde.autograde_preprocessors``
(see :mod:`autograder.worker`) and differs from it in what happens when things go wrong:

* the kernel is a :class:`~autograder.sandbox.SandboxKernelManager` (bubblewrap + limits +
  integrity guard) and runs in a scratch copy of the student's folder, so nothing the
  student's code writes reaches the autograded folder or the feedback;
* a dead kernel (``os._exit``, a memory or CPU limit, a crash), a kernel that stays busy
  after a timeout, or the notebook's wall-clock budget running out stops execution there:
  the cell gets an error saying why and every later code cell is marked as not run. Plain
  nbgrader would either give unexecuted test cells full marks (no output, no error) or
  fail the whole submission;
* a guard report of tampering (or no signed answer to the final probe) turns every
  autograded cell of the notebook into an error with the reason;
* an error in a test cell always wins over an ``execute_result`` (nbgrader would read a
  result displayed by student code as partial credit, even full marks);
* output beyond ``max_output_bytes`` per cell is dropped with a note.

What happened is kept in :data:`RESULTS` (notebook id -> dict) for the worker.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import time
import uuid

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader import utils as nbutils
from nbgrader.preprocessors import Execute
from traitlets import Integer, Unicode

from .sandbox import SandboxKernelManager, restore_owner

# notebook id -> what happened while executing it (read by autograder.worker)
RESULTS: dict[str, dict] = {}

SIGNAL_REASONS = {
    signal.SIGKILL: "killed (memory or process limit reached, or killed by the grader)",
    signal.SIGXCPU: "CPU time limit reached",
    signal.SIGXFSZ: "file size limit reached",
    signal.SIGSEGV: "crashed (segmentation fault)",
    signal.SIGABRT: "aborted (often: out of memory inside a C library)",
    signal.SIGBUS: "crashed (bus error)",
    signal.SIGTERM: "terminated",
}


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"\x1b[0;31m{ename}\x1b[0m: {evalue}"])


def _is_autograded_test(cell) -> bool:
    return cell.cell_type == "code" and nbutils.is_grade(cell) and not nbutils.is_solution(cell)


class SandboxedExecute(Execute):
    """Execute preprocessor with the sandbox, the guard and failure handling."""

    sandbox_settings = Unicode("{}", help="JSON: SandboxConfig fields, slot, trusted").tag(config=True)
    scratch_root = Unicode("", help="where per-notebook scratch folders are made").tag(config=True)
    notebook_budget = Integer(900, help="wall-clock seconds for one notebook").tag(config=True)
    unresponsive_grace = Integer(10, help="seconds a kernel may stay busy after a timeout").tag(config=True)
    max_output_bytes = Integer(2_000_000, help="output kept per cell").tag(config=True)
    probe_timeout = Integer(60).tag(config=True)

    # ---------------------------------------------------------------------------------
    def create_kernel_manager(self):
        settings = json.loads(self.sandbox_settings or "{}")
        self.km = SandboxKernelManager(kernel_name=self.kernel_name or "python3",
                                       config=self.config, settings=settings,
                                       log_path=self._log_path)
        return self.km

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        remaining = max(1, int(self._deadline - time.monotonic()))
        return remaining if timeout is None else min(timeout, remaining)

    async def _async_handle_timeout(self, timeout, cell=None):
        self._timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(json.dumps(content, default=str)) if msg["msg_type"] != "status" else 0
        self._cell_bytes += size
        if self._cell_bytes > self.max_output_bytes:
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
        info = {"notebook": notebook_id, "events": [], "tampering": [], "kernel": "ok",
                "timeouts": [], "not_run": 0, "truncated": []}
        RESULTS[notebook_id] = info
        self._deadline = time.monotonic() + self.notebook_budget
        self._timed_out = False
        self._cell_bytes = 0
        self._truncated = False

        metadata = resources.setdefault("metadata", {})
        original_path = metadata.get("path") or os.getcwd()
        self._scratch = self._make_scratch(original_path, notebook_id)
        self._log_path = os.path.join(os.path.dirname(self._scratch), f"{notebook_id}.kernel.log")
        info["kernel_log"] = self._log_path
        metadata["path"] = self._scratch
        stopped_at = None
        probe_nonce = None
        records: list[dict] = []
        bad_records = 0
        try:
            try:
                with self.setup_kernel():
                    info_msg = self.wait_for_reply(self.kc.kernel_info())
                    if info_msg:
                        self.nb.metadata["language_info"] = info_msg["content"].get(
                            "language_info", {})
                    for index, cell in enumerate(self.nb.cells):
                        if cell.cell_type != "code" or not cell.source.strip():
                            continue
                        if time.monotonic() > self._deadline:
                            stopped_at = (index, "the notebook ran out of its time budget "
                                                 f"({self.notebook_budget} s)")
                            info["events"].append(stopped_at[1])
                            break
                        reason = self._run_cell(cell, index, info)
                        if reason:
                            stopped_at = (index + 1, reason)
                            break
                    if stopped_at is None:
                        probe_nonce = uuid.uuid4().hex
                        if not self._run_probe(probe_nonce):
                            info["events"].append("the final integrity probe did not complete")
                    records, bad_records = self.km.guard_records()
            except Exception as exc:  # kernel failed to start, or nbclient gave up
                if stopped_at is None:
                    reason = f"the kernel could not be run: {type(exc).__name__}: {exc}"
                    stopped_at = (0, reason)
                    info["kernel"] = reason
                    info["events"].append(reason)
        finally:
            metadata["path"] = original_path
            restore_owner(self._scratch)
            shutil.rmtree(self._scratch, ignore_errors=True)

        if stopped_at is not None:
            info["not_run"] = self._mark_not_run(stopped_at[0], stopped_at[1])
        self._apply_guard_verdict(info, records, bad_records, probe_nonce)
        self._errors_beat_results()
        return self.nb, self.resources

    # ---------------------------------------------------------------------------------
    def _make_scratch(self, source_dir: str, notebook_id: str) -> str:
        root = self.scratch_root or os.path.join(source_dir, os.pardir, ".scratch")
        os.makedirs(root, exist_ok=True)
        scratch = os.path.join(root, f"{notebook_id}-{uuid.uuid4().hex[:8]}")
        shutil.copytree(source_dir, scratch, symlinks=False,
                        ignore=shutil.ignore_patterns("*.ipynb", ".*"))
        os.chmod(scratch, 0o755)
        return scratch

    def _run_cell(self, cell, index, info) -> str | None:
        """Execute one cell; return why execution must stop, or None."""
        self._timed_out = False
        self._cell_bytes = 0
        self._truncated = False
        try:
            self.execute_cell(cell, index, store_history=True)
        except DeadKernelError:
            reason = self._death_reason()
            cell.outputs.append(error_output("KernelDied", f"the kernel stopped in this cell: {reason}"))
            info["kernel"] = f"died in cell {index}: {reason}"
            info["events"].append(info["kernel"])
            return info["kernel"]
        except CellTimeoutError:
            self._timed_out = True
        finally:
            if self._truncated:
                cell.outputs.append(NotebookNode(
                    output_type="stream", name="stdout",
                    text=f"\n[output truncated by the autograder after {self.max_output_bytes} bytes]\n"))
                info["truncated"].append(index)
        if self._timed_out:
            info["timeouts"].append(index)
            if not any(o.output_type == "error" for o in cell.outputs):
                cell.outputs.append(error_output(
                    "CellTimeoutError", f"this cell did not finish within {self.timeout} s"))
            info["events"].append(f"cell {index} timed out")
            if not self._responsive():
                reason = (f"the kernel stayed busy after cell {index} timed out "
                          "(it ignored the interrupt)")
                info["kernel"] = reason
                info["events"].append(reason)
                return reason
        return None

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

    def _run_probe(self, nonce: str) -> bool:
        cell = NotebookNode(cell_type="code", metadata={}, outputs=[], execution_count=None,
                            source=f'__import__("sys").audit("autograder.probe", "{nonce}")')
        self.nb.cells.append(cell)
        saved = self.timeout
        try:
            self.timeout = self.probe_timeout
            self.execute_cell(cell, len(self.nb.cells) - 1, store_history=False)
            return True
        except Exception:
            return False
        finally:
            self.timeout = saved
            self.nb.cells.pop()

    def _mark_not_run(self, start: int, reason: str) -> int:
        count = 0
        for cell in self.nb.cells[start:]:
            if cell.cell_type == "code" and cell.source.strip():
                cell.outputs = [error_output("NotRun", f"not run: {reason}")]
                count += 1
        return count

    def _apply_guard_verdict(self, info, records, bad_records, probe_nonce) -> None:
        settings = json.loads(self.sandbox_settings or "{}")
        if settings.get("guard", True) is False:
            return
        tampering = [f"{r.get('what')} ({r.get('where')})" for r in records
                     if r.get("event") == "tamper"]
        armed = any(r.get("event") == "armed" for r in records)
        if info["kernel"] == "ok" and not armed:
            tampering.append("the integrity guard did not start")
        if probe_nonce is not None:
            answers = [r for r in records if r.get("event") == "probe"
                       and r.get("nonce") == probe_nonce]
            if not answers:
                tampering.append("the integrity probe got no signed answer "
                                 "(the kernel's machinery was replaced)")
        if bad_records:
            info["events"].append(f"{bad_records} unsigned record(s) on the guard channel")
        info["tampering"] = tampering
        if not tampering:
            return
        text = ("the grading environment was modified while this notebook ran: "
                + "; ".join(tampering[:5])
                + ". Autograded cells of this notebook score zero; ask your TA if you "
                  "think this is a mistake.")
        for cell in self.nb.cells:
            if _is_autograded_test(cell):
                cell.outputs = [o for o in cell.outputs if o.output_type != "execute_result"]
                cell.outputs.append(error_output("IntegrityError", text))

    def _errors_beat_results(self) -> None:
        for cell in self.nb.cells:
            if _is_autograded_test(cell) and any(o.output_type == "error" for o in cell.outputs):
                cell.outputs = [o for o in cell.outputs if o.output_type != "execute_result"]
