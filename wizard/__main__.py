"""Entry point: no subcommand opens the window; subcommands run headless and never import tkinter."""

import sys

from wizard.cli import main

if __name__ == "__main__":
    sys.exit(main())
