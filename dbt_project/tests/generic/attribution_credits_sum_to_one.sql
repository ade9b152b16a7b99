{#- Per model and conversion (order_id), the touch credits must sum to 1 within `tolerance`. One row per violation. -#}
{% test attribution_credits_sum_to_one(model, tolerance=0.000001) %}

select
    model,
    order_id,
    sum(credit) as total_credit
from {{ model }}
group by model, order_id
having abs(sum(credit) - 1) > {{ tolerance }}

{% endtest %}
