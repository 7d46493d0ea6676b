"""Visitors' feedback on the model's answers: collecting, storing, reviewing, exporting, pushing."""
