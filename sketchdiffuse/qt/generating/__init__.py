"""Generation in the window: the prompt panel, the worker thread, live mode and the history strip."""
