"""Exam-time mode: heartbeats, focus, forbidden software and connectivity watch."""
