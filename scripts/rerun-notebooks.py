"""Runs notebooks the way a student re-runs them, in one kernel each, and fails on the first error.

For every notebook given: Run All, then every code cell once more in the same kernel, last first,
so each cell runs twice and a cell that disposes or overwrites what an earlier cell needs is caught.
Run it with the project's Python (.venv) from the repository root; SSVAE_PROFILE=smoke keeps it short.

    .venv/bin/python scripts/rerun-notebooks.py notebooks/03-variant1-sampled.ipynb …

Prints one line per notebook, "rerun ok: <name> (<cells> code cells, 2 passes, <s> s)", or the
notebook, pass and cell id of the first error, and exits 1.
"""
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

KERNEL = 'tslab'
CELL_TIMEOUT = int(os.environ.get('SSVAE_CELL_TIMEOUT', '1800'))


def rerun(path):
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT,
        resources={'metadata': {'path': os.path.dirname(os.path.abspath(path))}},
    )
    code = [(index, cell) for index, cell in enumerate(notebook.cells) if cell.cell_type == 'code']
    passes = [('run all', code), ('each cell again, last first', list(reversed(code)))]
    started = time.time()
    with client.setup_kernel():
        for name, cells in passes:
            for index, cell in cells:
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as error:
                    first = str(error).strip().splitlines()
                    detail = '\n'.join(first[-12:])
                    print(f'rerun FAILED: {os.path.basename(path)}, pass "{name}", cell {cell.get("id", index)}:\n{detail}', flush=True)
                    return False
    print(f'rerun ok: {os.path.basename(path)} ({len(code)} code cells, {len(passes)} passes, {time.time() - started:.0f} s)', flush=True)
    return True


def main(paths):
    if not paths:
        print('usage: rerun-notebooks.py NOTEBOOK.ipynb …', file=sys.stderr)
        return 2
    for path in paths:
        if not rerun(path):
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
