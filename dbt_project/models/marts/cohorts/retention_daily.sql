{#-
  Day-based retention by signup-date cohort (次日/7日/30日留存): the share of the customers who
  signed up on a business day who were active exactly 1, 7 and 30 days later. Active on a day = a
  clickstream event signed in as the customer, or an order of int_orders_filtered, on that business day; where
  no clickstream has landed, orders alone define activity. Days after the as-of date are not known
  yet: their figures are null.
-#}
{%- set day_offsets = [1, 7, 30] -%}
-- SQLFluff measures the indent of the rows a Jinja loop renders, not of its source:
-- noqa: disable=LT02
with

customers as (

    select * from {{ ref('stg_shop__customers') }}

),

events as (

    select * from {{ ref('stg_shop__events') }}

),

orders as (

    select * from {{ ref('int_orders_filtered') }}

),

signups as (

    select
        customer_id,
        signup_date

    from customers
    where signup_date <= {{ as_of_date() }}

),

customer_events as (

    select
        customer_id,
        event_date as activity_date

    from events
    where customer_id is not null
        and event_date <= {{ as_of_date() }}

),

activity_days as (

    select
        customer_id,
        activity_date
    from customer_events
    union
    select
        customer_id,
        order_date as activity_date
    from orders

),

activity_source as (

    select case when count(*) > 0 then 'clickstream_and_orders' else 'orders' end as activity_source

    from customer_events

),

returns as (

    select
        signups.signup_date,
        {{ dbt.datediff('signups.signup_date', 'activity_days.activity_date', 'day') }} as day_offset,
        count(*) as active_customers

    from signups
    inner join activity_days
        on signups.customer_id = activity_days.customer_id
        and activity_days.activity_date in (
            {% for days in day_offsets -%}
            {{ dbt.dateadd('day', days, 'signups.signup_date') }}{{ ',' if not loop.last }}
            {% endfor -%}
        )
    group by 1, 2

),

cohorts as (

    select
        signup_date,
        count(*) as cohort_size,
        {% for days in day_offsets -%}
        {{ dbt.dateadd('day', days, 'signup_date') }} <= {{ as_of_date() }} as day{{ days }}_elapsed{{ ',' if not loop.last }}
        {% endfor %}

    from signups
    group by signup_date

),

cohort_returns as (

    select
        cohorts.signup_date,
        cohorts.cohort_size,
        {% for days in day_offsets -%}
        case
            when cohorts.day{{ days }}_elapsed
                then coalesce(sum(case when returns.day_offset = {{ days }} then returns.active_customers end), 0)
        end as day{{ days }}_active_customers{{ ',' if not loop.last }}
        {% endfor %}

    from cohorts
    left join returns
        on cohorts.signup_date = returns.signup_date
    group by 1, 2{% for days in day_offsets %}, cohorts.day{{ days }}_elapsed{% endfor %}

)

select
    cohort_returns.signup_date,
    cast(cohort_returns.cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
    cast(activity_source.activity_source as {{ dbt.type_string() }}) as activity_source,
    {% for days in day_offsets -%}
    cast(cohort_returns.day{{ days }}_active_customers as {{ dbt.type_bigint() }}) as day{{ days }}_active_customers,
    cast(cohort_returns.day{{ days }}_active_customers as double) / cohort_returns.cohort_size
        as day{{ days }}_retention_rate{{ ',' if not loop.last }}
    {% endfor %}

from cohort_returns
cross join activity_source
where {{ required_sources_landed() }}
