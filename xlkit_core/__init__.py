"""Ground floor shared by every xlkit package: nothing here knows about Wikidata, Wikipedia or training.

For now it holds the installation checks (``environment``) and the bug-report printer (``doctor``).
"""
