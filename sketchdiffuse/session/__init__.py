"""The application's logic without a window: job queue, live scheduling, history, settings.

No Qt here (tests/unit/test_boundaries.py); the window only displays these objects and forwards
the artist's actions to them.
"""
