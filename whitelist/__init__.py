"""What candidates must reach during a session, and how we find out whether they can."""
