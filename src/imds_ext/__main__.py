import sys

from imds_ext.cli import main

sys.exit(main())
