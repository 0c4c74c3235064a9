import sys

from imds_ext.launcher import main

sys.exit(main())
