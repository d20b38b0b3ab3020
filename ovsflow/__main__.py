"""``python -m ovsflow``: the same as the ``ovsflow`` command."""

import sys

from ovsflow.cli import main

sys.exit(main())
