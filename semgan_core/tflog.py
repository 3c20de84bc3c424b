"""TensorFlow imported without its start-up log lines on the terminal.

Importing TensorFlow prints several lines on stderr before any of the tool's own output
(``oneDNN custom operations are on``, ``Could not find cuda drivers``, CPU feature notes,
and ``failed call to cuInit`` on a machine with a CUDA library but no usable GPU). Most
come from C++ code that writes to file descriptor 2 before absl logging is initialised,
so ``TF_CPP_MIN_LOG_LEVEL`` alone does not hide them. :func:`import_tensorflow` sets
that variable and absl's Python verbosity, then imports TensorFlow and lists its
devices with descriptor 2 pointed at a temporary file; the lines are shown only if the
import fails. The command line calls it unless ``--verbose`` is given.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile


@contextlib.contextmanager
def _stderr_to(sink):
    """Point file descriptor 2 (and ``sys.stderr``) at ``sink`` for the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        os.dup2(sink.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def import_tensorflow(*, verbose: bool = False):
    """Import TensorFlow (and initialise its devices) quietly; return the module.

    Parameters
    ----------
    verbose : bool, optional
        Import it as usual, with every log line (nothing is changed).

    Returns
    -------
    tensorflow : module

    Notes
    -----
    Sets ``TF_CPP_MIN_LOG_LEVEL=3`` (unless already set) for the C++ messages logged
    later, and absl's and the ``tensorflow`` logger's Python levels to errors. A second call, or a call after
    TensorFlow was imported, only returns the module.
    """
    if "tensorflow" in sys.modules or verbose:
        import tensorflow

        return tensorflow
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryFile() as sink:
        try:
            with _stderr_to(sink):
                from absl import logging as absl_logging

                absl_logging.set_verbosity(absl_logging.ERROR)
                logging.getLogger("tensorflow").setLevel(logging.ERROR)  # e.g. retracing notes
                import tensorflow

                tensorflow.config.list_physical_devices()
        except BaseException:
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
    return tensorflow
