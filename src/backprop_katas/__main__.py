"""``python -m backprop_katas`` is the ``katas`` command."""

import sys

from backprop_katas.tool.cli import main

sys.exit(main())
