"""HTTP plumbing shared by every request waiter sends: the session, one bounded GET of a JSON
object, proxies, transient retries, and what an error answer means.

Imports only the base modules. Credentials reach it through the small ``Auth`` protocol.
"""
