"""``TYPE_CHECKING`` for the modules ``--help`` loads.

Not ``typing.TYPE_CHECKING``: importing ``typing`` costs ``--help`` about 6 ms of its ~70, and
type checkers read any name ``TYPE_CHECKING`` as true.
"""

TYPE_CHECKING = False
