"""Files in the window: open and save, autosave and recovery, background saving, drops."""
