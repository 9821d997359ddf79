"""Fake HTTP services on 127.0.0.1 that replay recorded or hand-made responses.

The real client code (osmnx, requests) runs against them: only the host changes.
"""
