"""``python -m sketchdiffuse``: the same entry point as the ``sketchdiffuse`` command."""

from sketchdiffuse.cli import main

raise SystemExit(main())
