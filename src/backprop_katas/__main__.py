"""``python -m backprop_katas`` is the ``katas`` command."""

import sys

from backprop_katas.commands import main

sys.exit(main())
