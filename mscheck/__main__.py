import sys

from mscheck.cli import main

sys.exit(main())
