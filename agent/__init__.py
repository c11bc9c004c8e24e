"""The agent: what a technician runs on a lab machine (crash test, report upload)."""
