"""Sessions vs JWT side by side: the comparison page, live experiments and their measurements."""
