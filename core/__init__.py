"""Shared pieces every other package may import (event kinds, ...); core imports nothing upward."""
