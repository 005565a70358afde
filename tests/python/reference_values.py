"""Published values the tests pin."""

#: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing
#: Science 24(2): the BG/NBD estimates and log-likelihood for the CDNOW sample
#: (2,357 customers, 39-week calibration period) reported in the paper.
FHL2005_PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
FHL2005_LOG_LIKELIHOOD = -9582.4
