"""``python -m waiter.testing``."""

import sys

from ._command import main

sys.exit(main())
