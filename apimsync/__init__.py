"""apimsync: keep Azure API Management configuration in git.

The package is a library first; ``apimsync.cli`` is a thin command-line layer over
``apimsync.commands``. Nothing below ``apimsync.commands`` knows about click.
"""

__version__ = "0.1.0"
