"""A stock Django + DRF + simplejwt project: bench/load.py's yardstick (see settings.py)."""
