"""Customer lifetime value: BG/NBD (who is still buying, how often) and Gamma-Gamma (how much per order).

Pure numpy/scipy fitters of Fader, Hardie & Lee (2005), run inside the warehouse by a dbt Python model.
"""
