"""`python -m hub.benchmark` entry point."""
import sys

from .runner import main

sys.exit(main())
