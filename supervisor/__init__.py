"""The supervisor server: stores reports and events, shows the dashboard."""
