"""Hard cases for sentence segmentation in reviews and tweets: the text and the sentences expected.

Used by bench/segmenters.py (to choose a segmenter) and tests/test_sentences.py (to keep it honest).
Sentences are compared with surrounding whitespace stripped.
"""

from __future__ import annotations

CASES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "title Dr.",
        "Dr. Smith fixed my tooth. He was gentle.",
        ("Dr. Smith fixed my tooth.", "He was gentle."),
    ),
    (
        "Mr. and Mrs.",
        "Mr. and Mrs. Jones loved it. So did I.",
        ("Mr. and Mrs. Jones loved it.", "So did I."),
    ),
    (
        "e.g.",
        "Bring snacks, e.g. chips and fruit. The trip is long.",
        ("Bring snacks, e.g. chips and fruit.", "The trip is long."),
    ),
    (
        "U.S. mid-sentence",
        "It shipped from the U.S. in two days. Fast!",
        ("It shipped from the U.S. in two days.", "Fast!"),
    ),
    (
        "vs.",
        "The new model vs. the old one: no contest. Buy it.",
        ("The new model vs. the old one: no contest.", "Buy it."),
    ),
    ("decimal rating", "I give it 3.5 stars. Worth it.", ("I give it 3.5 stars.", "Worth it.")),
    ("price", "It costs $4.99. That's a steal.", ("It costs $4.99.", "That's a steal.")),
    (
        "unit after a decimal",
        "It weighs 1.2 kg. Light enough.",
        ("It weighs 1.2 kg.", "Light enough."),
    ),
    (
        "ellipsis inside",
        "The wait was long... but the food was worth it.",
        ("The wait was long... but the food was worth it.",),
    ),
    (
        "ellipsis at the end",
        "I expected more... The ending was flat.",
        ("I expected more...", "The ending was flat."),
    ),
    ("!!!", "Best phone ever!!! Would buy again.", ("Best phone ever!!!", "Would buy again.")),
    (
        "?!",
        "Seriously?! The battery died in an hour.",
        ("Seriously?!", "The battery died in an hour."),
    ),
    (
        "emoji after the stop",
        "Love it! 😍 The screen is gorgeous.",
        ("Love it! 😍", "The screen is gorgeous."),
    ),
    (
        "emoji only as a stop",
        "Worst service ever 😡 Never again 👎",
        ("Worst service ever 😡 Never again 👎",),
    ),
    (
        "missing space",
        "The screen is great.The battery is awful.",
        ("The screen is great.", "The battery is awful."),
    ),
    (
        "line breaks",
        "Pros: great screen\nCons: awful battery",
        ("Pros: great screen", "Cons: awful battery"),
    ),
    (
        "bullet list",
        "What I liked:\n- the screen\n- the price\n* the camera",
        ("What I liked:", "- the screen", "- the price", "* the camera"),
    ),
    ("blank lines", "Great hotel.\n\nTerrible breakfast", ("Great hotel.", "Terrible breakfast")),
    (
        "quote with a stop inside",
        'He said "this is the best film of the year." I disagree.',
        ('He said "this is the best film of the year."', "I disagree."),
    ),
    ("quote then speaker", '"Wow!" she said. It was fine.', ('"Wow!" she said.', "It was fine.")),
    (
        "no punctuation",
        "this phone is fire honestly best purchase this year",
        ("this phone is fire honestly best purchase this year",),
    ),
    (
        "domain name",
        "See example.com for the details. Thanks.",
        ("See example.com for the details.", "Thanks."),
    ),
    (
        "time",
        "We arrived at 10 p.m. and the desk was closed. Awful.",
        ("We arrived at 10 p.m. and the desk was closed.", "Awful."),
    ),
)
