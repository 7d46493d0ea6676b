"""Sentiment demo kit: a Gradio app serving a transformers text classifier in queued batches."""

__version__ = "0.1.0"
