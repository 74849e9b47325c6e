"""The APIOps artifact layout: the folders the APIOps toolkit's extractor writes (v7, and
what v4 to v6 and the v7 pre-releases left in real repositories) and apiops-cli's
variant, read into and written from the one model.

Folder names are ARM resource names; operations live only in each API's specification
file, from which :mod:`apimsync.apispec` derives them as the service does on import.
What apimsync does not model (subscriptions, gateways, workspaces...) is kept byte for
byte and reported as not managed.
"""
