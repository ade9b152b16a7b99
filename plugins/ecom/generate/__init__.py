"""The demo data generator: a realistic, reproducible shop in the landing layout (`ecom generate`)."""

from ecom.generate.scale import SCALES, Scale, scale_named
from ecom.generate.shop import DEFAULT_END_DATE, generate_shop
from ecom.generate.summary import GenerateSummary

__all__ = ["DEFAULT_END_DATE", "SCALES", "GenerateSummary", "Scale", "generate_shop", "scale_named"]
