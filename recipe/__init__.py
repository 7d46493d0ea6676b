"""The model recipe: data, fine-tuning and evaluation. Never imported by the server."""
