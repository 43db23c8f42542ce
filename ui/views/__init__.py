"""The app's tabs, one module each: widgets only; edits go through ui.editing."""
