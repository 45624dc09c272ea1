"""`python -m hub.train` entry point (the code lives in hub/training)."""
import sys

from .training.cli import main

if __name__ == "__main__":
    sys.exit(main())
