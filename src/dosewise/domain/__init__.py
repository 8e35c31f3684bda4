"""Pure clinical rules: standard library only (numpy only under ``pk/``).

No I/O, no clock, no environment, no ORM, no web. Everything a rule needs arrives as an
argument; every clinical number comes from the monograph and carries its source key.
"""
