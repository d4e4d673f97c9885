"""Tamiyo policy inputs: observation features and action masks."""
