"""The container action's entry point (the Dockerfile's ENTRYPOINT): run the action, exit with its code."""

import sys

from benchaction.action.main import main

if __name__ == "__main__":
    sys.exit(main())
