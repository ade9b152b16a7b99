"""Data-driven attribution: the algebra the dbt Python models of the attribution area call."""
