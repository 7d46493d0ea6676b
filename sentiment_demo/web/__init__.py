"""The HTTP layer beside Gradio: JSON routes (TEI-compatible) and the ASGI middlewares."""
