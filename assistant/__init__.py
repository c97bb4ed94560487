"""litreview: a literature-review assistant whose citations are real and checked."""

import os

# numpy's OpenBLAS splits even a one-query matrix product across threads; on a busy 2-core
# machine that made the numpy query encoder 6x slower (93 ms against 15 ms a query). Set before
# numpy is first imported; an explicit setting by the user wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
