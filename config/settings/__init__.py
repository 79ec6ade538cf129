"""Settings split by environment: base, local (manage.py's default), test (pytest's), production."""
