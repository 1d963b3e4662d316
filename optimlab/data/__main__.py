"""``python -m optimlab.data`` runs the ``optimlab-data`` command."""

from .cli import main

raise SystemExit(main())
