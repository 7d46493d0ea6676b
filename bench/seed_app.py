"""The seed tutorial app, as a reference: one `pipeline(text)` call per request in a gr.Interface.

Default settings throughout (float32, torch's default threads, Gradio's default queue), as the tutorials
write it. Run: python bench/seed_app.py MODEL PORT
"""

from __future__ import annotations

import sys

import gradio as gr
from transformers import pipeline

model, port = sys.argv[1], int(sys.argv[2])
classifier = pipeline("text-classification", model=model)


def predict(text: str) -> dict[str, float]:
    return {item["label"]: item["score"] for item in classifier(text, top_k=None)}


gr.Interface(predict, gr.Textbox(label="Text"), gr.Label(), api_name="classify").launch(
    server_name="127.0.0.1", server_port=port
)
