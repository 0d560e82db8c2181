"""The pages of the window: the five wizard steps and the summary."""
