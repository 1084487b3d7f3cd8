"""``python -m kimi_fann.cli``: the same as the ``kimi-fann`` command."""

import sys

from . import main

sys.exit(main())
