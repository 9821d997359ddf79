"""ancrage web service (FastAPI). Only assembles routes over the ``geo`` library."""
