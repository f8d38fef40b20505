import sys

from ae_core.cli.commands import main

sys.exit(main())
