"""Text for the archive's search: one normalisation for what is stored and what is asked.

PostgreSQL's Snowball stemmers handle regular inflection ("boka", "boken"
→ "bok") but not a changed vowel: Norwegian "bøker" stems to "bøk", never
to "bok", and Danish "bøger" to "bøg". So before PostgreSQL sees a text,
the irregular forms people actually search for are replaced by their
dictionary form, the same way in the stored document and in the query.
Longer forms also match at the end of a compound ("barnebøker" →
"barnebok"); short ones only as whole words, where a compound would guess
wrong.
"""

from __future__ import annotations

import re
import unicodedata

# The text search configurations every document is indexed in; a query is
# parsed in Norwegian and in the user's own language.
CONFIGS = ("norwegian", "danish", "english")
CONFIG_FOR_LANGUAGE = {"nb": "norwegian", "da": "danish", "en": "english"}

# Irregular plurals (and their definite forms) → the dictionary form.
_IRREGULAR: dict[str, str] = {
    # Norwegian Bokmål
    "bøker": "bok",
    "bøkene": "bok",
    "bøkenes": "bok",
    "menn": "mann",
    "mennene": "mann",
    "fedre": "far",
    "fedrene": "far",
    "mødre": "mor",
    "mødrene": "mor",
    "brødre": "bror",
    "brødrene": "bror",
    "døtre": "datter",
    "døtrene": "datter",
    "føtter": "fot",
    "føttene": "fot",
    "netter": "natt",
    "nettene": "natt",
    "tenner": "tann",
    "tennene": "tann",
    "bønder": "bonde",
    "bøndene": "bonde",
    "tær": "tå",
    "knær": "kne",
    "trær": "tre",
    # Danish
    "bøger": "bog",
    "bøgerne": "bog",
    "mænd": "mand",
    "mændene": "mand",
    "fædre": "far",
    "børnene": "barn",
    "børn": "barn",
    # English
    "children": "child",
    "men": "man",
    "women": "woman",
    "people": "person",
    "mice": "mouse",
}
# Forms this long also end compounds ("lydbøker", "pappatreff-fedre").
_COMPOUND_MIN = 5
_SUFFIXES = sorted(
    ((form, lemma) for form, lemma in _IRREGULAR.items() if len(form) >= _COMPOUND_MIN),
    key=lambda pair: -len(pair[0]),
)


_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_WORD = re.compile(r"\w+", re.UNICODE)


def _lemma(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    for form, lemma in _SUFFIXES:
        if word.endswith(form) and len(word) > len(form):
            return word[: -len(form)] + lemma
    return word


def normalize(text: str) -> str:
    """Lower case, compatibility forms folded, invisible characters dropped, irregular forms replaced.

    Punctuation and operators stay where they were, so a normalised query
    still means what the person typed (quotes, "or", a leading minus).
    """
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).lower()
    return _WORD.sub(lambda match: _lemma(match.group(0)), text)


def words(text: str) -> list[str]:
    """The normalised words of a text, in order."""
    return _WORD.findall(normalize(text))
