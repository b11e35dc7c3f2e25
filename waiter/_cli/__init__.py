"""The command line: arguments, the run and its exit code, results on stdout, progress and
logs on stderr, reports, signals, ``--show-config`` and ``--demo``.

Imports anything below it. The one place, with ``waiter/__init__``, where imports wait until
they are needed, so that ``--help`` stays fast.
"""
