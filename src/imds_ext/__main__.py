"""`python -m imds_ext`: the same entry point as the `az-imds` command."""
import sys

from imds_ext.launcher import main

sys.exit(main())
