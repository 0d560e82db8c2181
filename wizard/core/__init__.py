"""Everything that is not a window. Nothing here imports tkinter or ttkbootstrap."""
