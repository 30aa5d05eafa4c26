"""Django's and allauth's own strings that their Bokmål or Danish catalogues get wrong.

Django's Bokmål catalogue is older than Django 6.1: it lacks the empty choice of
every dropdown ("- Select an option -") and translates the password-length error
under its old wording, so both showed in English. allauth's writes "Endre Passord"
and its Danish subject for a password reset mixes in English. Our catalogues
(LOCALE_PATHS) come first, so these msgids, translated in locale/*/django.po, win.
Nothing imports this module: it is here for `make messages` to find the strings.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

DJANGO = [
    gettext_noop("- Select an option -"),
    gettext_noop("Enter a valid domain name."),
    gettext_noop("Enter a valid %(protocol)s address."),
    gettext_noop("“%(value)s” is not a valid binary value."),
    gettext_noop("%(model)s instance with %(field)s %(value)r is not a valid choice."),
    gettext_noop("Conflicting form data submitted. Please try again."),
    gettext_noop("Password-based authentication was disabled."),
]
PASSWORD_TOO_SHORT = ngettext_lazy(
    "This password is too short. It must contain at least %d character.",
    "This password is too short. It must contain at least %d characters.",
    "min_length",
)
ALLAUTH = [
    gettext_noop("Change Password"),
    gettext_noop("Password Reset Email"),
]
