"""Renderers: the only code that prints or draws a report (terminal, JSON, HTML, window)."""
