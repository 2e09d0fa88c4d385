"""Builders of realistic test inputs: mails and archives made in code, never fixtures on disk."""
