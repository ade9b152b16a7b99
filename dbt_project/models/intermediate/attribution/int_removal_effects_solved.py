"""Markov-chain removal effects of every channel, and of every (channel, campaign), exactly.

One first-order chain per grain over all journeys of int_journey_touches_sequenced, converting and not
(ecom.attribution.markov). credit_share = removal effect / sum of removal effects of the grain: the
share of the touched conversions (and their revenue) the markov model credits to the row. A dbt
Python model (numpy linear algebra); the marts that read it carry the enforced contracts.
"""

from collections import Counter

import pandas as pd

from ecom.attribution.markov import Journey, credit_shares, removal_effects

GRAINS = {"channel": ["channel"], "campaign": ["channel", "campaign_id"]}


def journeys_of(touches: pd.DataFrame, grain: list[str]) -> list[Journey]:
    """Identical journeys (same states, same outcome) counted once with their number."""
    labels = touches[grain].astype(object).where(touches[grain].notna(), None)
    states = pd.Series(list(labels.itertuples(index=False, name=None)), index=touches.index)
    paths = states.groupby(touches["journey_id"], sort=False).agg(tuple)
    outcome = touches.groupby("journey_id", sort=False)["is_converting"].first()
    counted = Counter(zip(paths, outcome.loc[paths.index], strict=True))
    return [Journey(states=path, converted=bool(converted), count=count)
            for (path, converted), count in sorted(counted.items(), key=repr)]


def removal_effect_rows(touches: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for grain, columns in GRAINS.items():
        effects = removal_effects(journeys_of(touches, columns))
        shares = credit_shares(effects)
        for label, effect in effects.items():
            channel, campaign_id = (label[0], label[1]) if grain == "campaign" else (label[0], None)
            rows.append((grain, channel, campaign_id, effect, shares[label]))
    frame = pd.DataFrame(rows, columns=["grain", "channel", "campaign_id", "removal_effect", "credit_share"])
    return frame.astype({"grain": "string", "channel": "string", "campaign_id": "string",
                         "removal_effect": "float64", "credit_share": "float64"})


def model(dbt, session):
    dbt.config(materialized="table")
    touches = dbt.ref("int_journey_touches_sequenced").df()
    touches = touches.sort_values(["journey_id", "touch_position"], kind="stable")
    return removal_effect_rows(touches)
