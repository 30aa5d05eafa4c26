"""The shared archive: filing published assets and reusing them, search, text normalisation, downloads."""
