"""Norwegian text for the bench data: titles, pitches, captions with hashtags, alt texts and tags.

Search is only measured honestly on text that looks like the real thing:
real words in real inflections (so the stemmers and the irregular plurals in
publishing/search.py do their work), a few words that almost every item
has (bibliotek, the library names), hashtags, and a long tail of rarer
words. Everything is drawn from a seeded `random.Random`, so a scale always
produces the same text.
"""

from __future__ import annotations

import itertools
import random

AUTHORS = [
    "Jo Nesbø", "Maja Lunde", "Jostein Gaarder", "Erlend Loe", "Anne B. Ragde", "Lars Saabye Christensen",
    "Tore Renberg", "Vigdis Hjorth", "Roy Jacobsen", "Maria Parr", "Jørn Lier Horst", "Unni Lindell",
    "Gunnar Staalesen", "Karin Fossum", "Linn Ullmann", "Hanne Ørstavik", "Agnes Ravatn", "Simon Stranger",
    "Per Petterson", "Herbjørg Wassmo", "Thorbjørn Egner", "Anne-Cath. Vestly", "Alf Prøysen", "Tor Åge Bringsværd",
    "Kari Stai", "Endre Lund Eriksen", "Ingvild Rishøi", "Heidi Furre", "Helga Flatland", "Johan Harstad",
]  # fmt: skip

BOOKS = [
    "Snømannen", "Bienes historie", "Sofies verden", "Naiv. Super.", "Berlinerpoplene", "Beatles",
    "Kompani Orheim", "Arv og miljø", "De usynlige", "Vaffelhjarte", "Vinterstengt", "Den røde ulven",
    "Varg Veum", "Ut og stjæle hester", "Dinas bok", "Klatremus og de andre dyrene i Hakkebakkeskogen",
    "Kardemomme by", "Teskjekjerringa", "Fuglane", "Astronauten", "Hundeår", "Doppler", "Blodmåne",
    "Et liv på landet", "Havet", "Stormen", "Nattsvermeren", "Ulvesommer", "Gartneren", "Det siste lyset",
]  # fmt: skip

GENRES = [
    "krim", "fantasy", "grøsser", "lyrikk", "tegneserier", "romaner", "fakta", "biografier",
    "eventyr", "historiske romaner", "noveller", "sakprosa", "bildebøker", "ungdomsbøker", "lydbøker",
    "kokebøker", "reiseskildringer", "science fiction", "feelgood", "manga",
]  # fmt: skip

EVENTS = [
    "lesesirkel", "forfatterbesøk", "eventyrstund", "språkkafé", "bokbad", "pappatreff", "strikkekafé",
    "sommerles", "gamingkveld", "slektsforskning", "leksehjelp", "datahjelp for seniorer", "babysang",
    "filmkveld", "quiz", "sjakkturnering", "verksted i makerspace", "3D-printing", "lego-klubb",
    "høytlesning", "skrivekurs", "konsert i biblioteket", "bytte-dag for planter", "reparasjonskafé",
]  # fmt: skip

SERVICES = [
    "lydbøker i appen", "e-bøker", "meråpent bibliotek", "fjernlån", "symaskin", "3D-printeren", "VR-briller",
    "brettspill", "lånekortet", "aviser på nett", "studieplasser", "boksamtaler", "tilrettelagte bøker",
    "lese-lett-bøker", "bøker på andre språk", "verktøy til utlån", "sykler", "telt og turutstyr",
]  # fmt: skip

SEASONS = [
    "i høst", "i vinter", "i vår", "i sommer", "i jula", "i påsken", "i vinterferien", "i høstferien", "i sommerferien",
]  # fmt: skip

AUDIENCE_WORDS = ["barn", "ungdom", "voksne", "seniorer", "familier", "småbarnsforeldre", "studenter", "alle"]

ROOMS = [
    "krimhylla", "barneavdelingen", "ungdomshjørnet", "lesesalen", "skranken", "makerspace",
    "tidsskriftkroken", "scenen", "vinduet mot torget", "utstillingsbordet", "lydbokhylla",
]  # fmt: skip

STAFF = [
    "Kari", "Ola", "Ingrid", "Per", "Sofie", "Amir", "Liv", "Nils", "Fatima", "Jonas", "Sara", "Henrik",
    "Mona", "Erik", "Aisha", "Tor", "Hilde", "Magnus", "Nora", "Emil",
]  # fmt: skip

TAGS = [
    "lesetips", "bokanbefaling", "arrangement", "bibliotekarer", "barnebøker", "bak kulissene", "ungdomsbøker",
    "krim", "lydbøker", "humor", "familie", "pappatreff", "sommerles", "strikkekafé", "språkkafé", "eventyr",
    "fantasy", "forfatterbesøk", "lesesirkel", "gaming", "makerspace", "3d-printer", "digitalt", "høst",
    "vinter", "vår", "sommer", "jul", "påske", "tegneserier", "lyrikk", "sakprosa", "meråpent", "leksehjelp",
    "seniorer", "babysang", "quiz", "film", "musikk", "lokalhistorie",
]  # fmt: skip

# Hashtags as people write them, without æøå or spaces in most of them.
HASHTAGS = [
    "#bibliotek", "#lesetips", "#bokanbefaling", "#bookstagram", "#lesing", "#folkebibliotek", "#bibliotekar",
    "#barnebøker", "#lydbok", "#krim", "#sommerles", "#humor", "#pappatreff", "#strikkekafe", "#spraakkafe",
    "#lesesirkel", "#forfatterbesøk", "#makerspace", "#gaming",
]  # fmt: skip

_ZIPF_WEIGHTS: dict[tuple[int, float], list[float]] = {}

_OPENINGS = [
    "Har du vært på {event}?", "Bli med på {event}!", "Snart er det {event} igjen.", "Visste du at vi har {event}?",
    "Nå starter {event} opp igjen.", "Velkommen til {event}!", "Takk til alle som kom på {event}!",
]  # fmt: skip


def _zipf_pick(rng: random.Random, words: list[str], exponent: float = 1.0) -> str:
    """The n-th word of a list with a weight of 1/n**exponent (Zipf's law): real text has a few common words.

    Lists are ordered so that the general words (lesetips, bokanbefaling) lead
    and the topics people search for (krim, pappatreff) come some way down:
    a one-word search for a topic then matches a few per cent of the archive,
    as it would in a real one, not a quarter of it.
    """
    key = (len(words), exponent)
    weights = _ZIPF_WEIGHTS.get(key)
    if weights is None:
        ranks = range(1, len(words) + 1)
        weights = _ZIPF_WEIGHTS[key] = list(itertools.accumulate(1 / rank**exponent for rank in ranks))
    return rng.choices(words, cum_weights=weights)[0]


def idea_title(rng: random.Random) -> str:
    patterns = [
        lambda: f"Bokprat: {rng.choice(GENRES)} {rng.choice(SEASONS)}",
        lambda: f"Fredagstips: «{rng.choice(BOOKS)}» av {rng.choice(AUTHORS)}",
        lambda: f"{_zipf_pick(rng, EVENTS, 0.5).capitalize()} på biblioteket",
        lambda: f"Slik bruker du {rng.choice(SERVICES)}",
        lambda: f"Bak kulissene i {rng.choice(ROOMS)}",
        lambda: f"Tre {rng.choice(GENRES)} vi elsker",
        lambda: f"Bibliotekaren anbefaler {rng.choice(AUTHORS)}",
        lambda: f"{rng.choice(EVENTS).capitalize()} for {rng.choice(AUDIENCE_WORDS)}",
    ]
    return rng.choice(patterns)()


def pitch(rng: random.Random, library: str) -> str:
    return " ".join(
        [
            rng.choice(_OPENINGS).format(event=rng.choice(EVENTS)),
            f"Vi på {library} har lyst til å vise det fram.",
            f"Vi vil lage en kort video der {rng.choice(STAFF)} viser {rng.choice(ROOMS)} "
            f"og anbefaler {rng.choice(GENRES)} for {rng.choice(AUDIENCE_WORDS)}.",
            f"Passer fint {rng.choice(SEASONS)}, og vi kan ta opptak hos oss.",
        ]
    )


def post_title(rng: random.Random) -> str:
    patterns = [
        lambda: f"Lesetips: {rng.choice(GENRES)}",
        lambda: f"«{rng.choice(BOOKS)}» av {rng.choice(AUTHORS)}",
        lambda: f"{_zipf_pick(rng, EVENTS, 0.5).capitalize()} {rng.choice(SEASONS)}",
        lambda: f"Visste du om {rng.choice(SERVICES)}?",
        lambda: f"Møt bibliotekaren {rng.choice(STAFF)}",
    ]
    return rng.choice(patterns)()


def caption(rng: random.Random, libraries: list[str], handles: list[str]) -> str:
    """A post's caption: two or three sentences, the libraries, a few hashtags (as the editors write them)."""
    book, author = rng.choice(BOOKS), rng.choice(AUTHORS)
    sentences = [
        rng.choice(_OPENINGS).format(event=_zipf_pick(rng, EVENTS, 0.5)) + " "
        f"Denne gangen tipser {rng.choice(STAFF)} om «{book}» av {author}.",
        f"Perfekt for {rng.choice(AUDIENCE_WORDS)} som liker {rng.choice(GENRES)} {rng.choice(SEASONS)}.",
    ]
    if rng.random() < 0.5:
        sentences.append(f"Du finner boka i {rng.choice(ROOMS)}, eller lån den som lydbok i appen.")
    if libraries:
        sentences.append("Laget sammen med " + ", ".join(libraries) + ".")
    mentions = " ".join(f"@{handle}" for handle in handles if handle)
    tags = sorted({_zipf_pick(rng, HASHTAGS) for _ in range(rng.randint(2, 6))} | {"#bibliotek"})
    return "\n\n".join(part for part in [" ".join(sentences), mentions, " ".join(tags)] if part)


def alt_text(rng: random.Random) -> str:
    patterns = [
        lambda: f"{rng.choice(STAFF)} holder opp boka «{rng.choice(BOOKS)}» foran {rng.choice(ROOMS)}.",
        lambda: f"Fire bøker om {rng.choice(GENRES)} stilt opp på et bord med en kopp kaffe.",
        lambda: f"Deltakere på {rng.choice(EVENTS)} sitter rundt et langbord og smiler.",
        lambda: f"Nærbilde av hender som blar i en bok i {rng.choice(ROOMS)}.",
        lambda: f"Bibliotekaren {rng.choice(STAFF)} peker på en plakat om {rng.choice(SERVICES)}.",
        lambda: f"En stabel med {rng.choice(GENRES)} og et skilt med teksten «Lånes ut nå!».",
    ]
    return rng.choice(patterns)()


def tags(rng: random.Random) -> list[str]:
    return sorted({_zipf_pick(rng, TAGS) for _ in range(rng.randint(1, 5))})


def follower_comment(rng: random.Random) -> str:
    """A follower's comment under a post (the comment inbox)."""
    return rng.choice(
        [
            "Når åpner dere på lørdag?",
            "Så fint! Har dere flere tips til tenåringer?",
            "Kan jeg reservere den boka på nett?",
            f"Blir det {rng.choice(EVENTS)} i sommer også?",
            "Hvor mange kan være med?",
            "Tusen takk for tipset 📚",
            "Er det gratis?",
            "Har dere den som lydbok?",
        ]
    )


def reply(rng: random.Random) -> str:
    """The county's answer to a follower."""
    return rng.choice(
        [
            "Hei! Vi åpner klokka 10 på lørdager.",
            "Ja, den kan du reservere i appen eller på nettsidene våre.",
            "Det er gratis, og alle er velkomne!",
            "Takk! Spør gjerne i skranken, så hjelper vi deg.",
        ]
    )


def comment(rng: random.Random) -> str:
    return rng.choice(
        [
            "Fin idé! Kan vi ta den på neste opptaksdag?",
            "Har dere noen bøker dere vil vise fram? Send gjerne en liste.",
            "Vi kan stille med to bibliotekarer.",
            f"Passer godt sammen med {rng.choice(EVENTS)} hos oss.",
            "Kan vi gjøre den kortere, rundt 30 sekunder?",
            "Husk samtykke fra de som er med i bildet.",
        ]
    )
