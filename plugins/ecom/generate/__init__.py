"""The demo data generator: a realistic, reproducible shop in the landing layout (`ecom generate`)."""

from ecom.generate.shop import DEFAULT_END_DATE, generate_shop
from ecom.generate.summary import GenerateSummary

__all__ = ["DEFAULT_END_DATE", "GenerateSummary", "generate_shop"]
