"""An nbconvert preprocessor that runs a notebook as a student re-runs it, for `export.js --rerun`.

It is nbconvert's ExecutePreprocessor (Run All, in a fresh kernel) followed, in the same kernel,
by every code cell once more, last first. A cell that disposes or overwrites what an earlier cell
needs fails there. The handout keeps the outputs of Run All: the second pass runs on copies of the
cells. One line reports each notebook:

    rerun ok: <label>: Run All used <s> s of CPU; then its <n> code cells ran again, last first, in <s> s

The CPU seconds are those of nbconvert and of the kernel at the end of Run All (read from /proc,
so on Linux; elsewhere the line says they were not measured). export.js puts scripts/ on
PYTHONPATH and names this class in --HTMLExporter.preprocessors instead of passing --execute;
the ExecutePreprocessor options (kernel_name, timeout) apply to it as to its parent.
"""
import copy
import os
import resource
import time

from nbclient.exceptions import CellExecutionError
from nbconvert.preprocessors import ExecutePreprocessor
from traitlets import Unicode


def process_cpu_seconds(pid):
    """User and system CPU seconds of process `pid` and of the children it waited for, or None."""
    try:
        with open(f'/proc/{pid}/stat', encoding='ascii') as stat:
            # The command name, in parentheses, may hold spaces: the fields after it start at 3.
            fields = stat.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf('SC_CLK_TCK')


class RerunPreprocessor(ExecutePreprocessor):
    """Run All, then each code cell again, last first, in the same kernel."""

    label = Unicode('notebook', help='How the log lines name the notebook.').tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        result = super().preprocess_cell(cell, resources, index)
        if index == len(self.nb.cells) - 1:  # the last cell: still inside the kernel's context
            self._run_each_again()
        return result

    def _cpu_so_far(self):
        kernel = process_cpu_seconds(getattr(self.km.provisioner, 'pid', None)) if self.km and self.km.provisioner else None
        if kernel is None:
            return None
        own = resource.getrusage(resource.RUSAGE_SELF)
        return kernel + own.ru_utime + own.ru_stime

    def _run_each_again(self):
        run_all_cpu = self._cpu_so_far()
        started = time.time()
        code = [(index, cell) for index, cell in enumerate(self.nb.cells) if cell.cell_type == 'code']
        for index, cell in reversed(code):
            try:
                self.execute_cell(copy.deepcopy(cell), index, store_history=True)
            except CellExecutionError:
                self.log.error(
                    'rerun FAILED: %s: code cell %s (cell %d) failed when run a second time '
                    '(Run All had passed; then each cell again, last first)',
                    self.label,
                    cell.get('id', '?'),
                    index + 1,
                )
                raise
        cpu = 'an unmeasured amount of CPU' if run_all_cpu is None else f'{run_all_cpu:.1f} s of CPU'
        self.log.info(
            'rerun ok: %s: Run All used %s; then its %d code cells ran again, last first, in %.0f s',
            self.label,
            cpu,
            len(code),
            time.time() - started,
        )
