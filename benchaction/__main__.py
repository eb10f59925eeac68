"""`python -m benchaction` runs the CLI."""

import sys

from benchaction.cli import main

sys.exit(main())
