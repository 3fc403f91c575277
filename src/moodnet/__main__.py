import sys

from moodnet.cli import main

sys.exit(main())
