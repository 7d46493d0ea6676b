"""Long and mixed texts: sentences, overlapping windows, length-weighted aggregates and aspects.

Plain functions over any classify function: no Gradio, no torch, no tokenizer.
"""
