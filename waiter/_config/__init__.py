"""Settings and where they come from: the table of settings, and the config file, the
environment and flags layered over the defaults, with provenance.

Imports only the base modules (``_errors``). Nothing here touches the network or
loads aiohttp: the command line checks its arguments with it before anything heavier loads.
"""
