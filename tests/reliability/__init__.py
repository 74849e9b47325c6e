"""Reliability and security: faults, crashes, concurrent pipelines, hostile input, secrets.

One module per concern; each prints its figures, and the session ends with all of them
in one "apimsync reliability figures" section of pytest's summary.
"""
