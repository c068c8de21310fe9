"""``python -m local_aws.standin``: the same as ``migration-wait-standin``."""

import sys

from scripts.standin import main

sys.exit(main())
