"""``python -m jobs.report RUN [--title TITLE] [--top-langs N]``: see :mod:`jobs.report`."""

import sys

from jobs.report.assemble import main

sys.exit(main())
