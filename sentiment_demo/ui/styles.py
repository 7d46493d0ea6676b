"""The app's one style sheet: what Gradio's defaults get wrong on a phone and in long texts.

Passed to `launch(css=...)` by service.py. Rules select our own elem_ids, never Gradio's generated ids.
"""

from __future__ import annotations

# Gradio lays HighlightedText out as a row of flex items that break words anywhere, so a sentence
# longer than the screen is cut mid-word and clipped on a phone: let the sentences flow as text.
SENTENCE_RULES = """
#sentences-output .textfield, [id^="compare-sentences-"] .textfield {
  display: block; word-break: normal; overflow-wrap: anywhere; line-height: 2;
}
#sentences-output .token-container, [id^="compare-sentences-"] .token-container { display: inline; }
#sentences-output .token, [id^="compare-sentences-"] .token {
  display: inline; -webkit-box-decoration-break: clone; box-decoration-break: clone;
}
#sentences-summary { padding: 0 var(--block-padding); }
"""

# A model card's tables squeeze every column to a letter a line on a 390 px screen (a 9,000 px
# page): keep cells on one line and let each table scroll sideways inside the card instead.
MODEL_CARD_RULES = """
/* A long card scrolls in its own box, so the Model tab stays a screen or two tall on a phone. */
[id^="model-card"] { max-height: 75vh; overflow-y: auto; }
[id^="model-card"] table { display: block; max-width: 100%; overflow-x: auto; }
[id^="model-card"] th, [id^="model-card"] td { white-space: nowrap; }
[id^="model-card"] pre { max-width: 100%; overflow-x: auto; }
[id^="model-info"], #serving-info, #model-serve-another { overflow-wrap: anywhere; }
"""

# On a phone, long unbroken strings (a Hub id, a URL, a code span) must wrap, not widen the page.
PHONE_RULES = """
@media (max-width: 640px) {
  #sentiment-status, [id^="compare-notice-"], #compare-agreement { overflow-wrap: anywhere; }
  .prose code { white-space: pre-wrap; word-break: break-word; }
}
"""

APP_CSS = SENTENCE_RULES + MODEL_CARD_RULES + PHONE_RULES
