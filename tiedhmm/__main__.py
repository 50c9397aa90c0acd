"""``python -m tiedhmm``: the same as the ``tiedhmm`` command."""

import sys

from .cli import main

sys.exit(main())
