"""Entry point for ``python -m semgan_core``."""

import sys

from semgan_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
