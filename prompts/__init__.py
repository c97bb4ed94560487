"""Prompt files (see README.md); this file only makes the folder installable as package data."""
