{#-
  Repeat purchase per acquisition cohort (same grains and cuts as cohort_retention): the share of the
  cohort's customers who came back for a second order day within 30, 60 and 90 days of their first
  order, counted among the customers whose window has fully elapsed by the as-of date.
-#}
{%- set windows = [30, 60, 90] -%}
-- SQLFluff measures the indent of the rows a Jinja loop renders, not of its source:
-- noqa: disable=LT02
with

first_orders as (

    select * from {{ ref('int_customer_first_orders_enriched') }}

),

order_days as (

    select * from {{ ref('int_orders_aggregated_to_customer_days') }}

),

cohort_members as (

    {{ cohort_members('first_orders') }}

),

second_order_days as (

    select
        customer_id,
        order_date as second_order_date

    from order_days
    where order_day_number = 2

),

customer_repeats as (

    select
        first_orders.customer_id,
        {%- for days in windows %}
        case
            when {{ dbt.dateadd('day', days, 'first_orders.first_order_date') }} > {{ as_of_date() }} then null
            when second_order_days.second_order_date is not null
                and {{ dbt.datediff(
                    'first_orders.first_order_date', 'second_order_days.second_order_date', 'day') }} <= {{ days }}
                then 1
            else 0
        end as repeated_within_{{ days }}d{{ ',' if not loop.last }}
        {%- endfor %}

    from first_orders
    left join second_order_days
        on first_orders.customer_id = second_order_days.customer_id

),

cohorts as (

    select
        cohort_members.cohort_grain,
        cohort_members.cohort_dimension,
        cohort_members.cohort_value,
        cohort_members.cohort_start,
        count(*) as cohort_size,
        {%- for days in windows %}
        count(customer_repeats.repeated_within_{{ days }}d) as eligible_customers_{{ days }}d,
        sum(customer_repeats.repeated_within_{{ days }}d) as repeat_customers_{{ days }}d{{ ',' if not loop.last }}
        {%- endfor %}

    from cohort_members
    inner join customer_repeats
        on cohort_members.customer_id = customer_repeats.customer_id
    group by 1, 2, 3, 4

)

select
    cohort_grain,
    cohort_dimension,
    cohort_value,
    cohort_start,
    cast(cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
    {%- for days in windows %}
    cast(eligible_customers_{{ days }}d as {{ dbt.type_bigint() }}) as eligible_customers_{{ days }}d,
    cast(coalesce(repeat_customers_{{ days }}d, 0) as {{ dbt.type_bigint() }}) as repeat_customers_{{ days }}d,
    case
        when eligible_customers_{{ days }}d = 0 then null
        else cast(repeat_customers_{{ days }}d as double) / eligible_customers_{{ days }}d
    end as repeat_rate_{{ days }}d{{ ',' if not loop.last }}
    {%- endfor %}

from cohorts
where {{ required_sources_landed() }}
