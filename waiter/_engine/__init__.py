"""The engine: tasks in a due-time heap, served by a dispatcher and workers, with back-off,
rate limits, bulk listing rounds and status classes; and the clock it runs on.

Imports ``_apis`` (the interface only) and the base modules; it never sees ``Settings``.
"""
