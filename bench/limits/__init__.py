"""The limit apps of ``make bench-compare``: the least a Flask app under Docbridge's gunicorn
settings can do for a request, to measure Docbridge's own cost against."""
