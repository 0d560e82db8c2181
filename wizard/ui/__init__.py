"""The window (ttkbootstrap). Everything that is not a window lives in wizard.core."""
