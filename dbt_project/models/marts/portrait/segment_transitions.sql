{#-
  How customers moved between segments from one as-of date of user_portrait_history to the next
  (consecutive dates present in the history), per dimension: the from → to matrix in long form.
  A customer with no row on the earlier date (first order in between) comes from 'not_a_customer';
  a missing value (e.g. no CLV fit) is 'unscored'.
-#}
{%- set dimensions = ['rfm_segment', 'lifecycle_stage', 'value_tier', 'churn_risk'] -%}
-- SQLFluff measures the indent of the rows a Jinja loop renders, not of its source:
-- noqa: disable=LT02
with

history as (

    select * from {{ ref('user_portrait_history') }}

),

as_of_dates as (

    select distinct as_of_date from history

),

consecutive_dates as (

    select
        lag(as_of_date) over (order by as_of_date) as from_as_of_date,
        as_of_date as to_as_of_date
    from as_of_dates

),

moves as (

    select
        consecutive_dates.from_as_of_date,
        consecutive_dates.to_as_of_date,
        {%- for dimension in dimensions %}
        case
            when earlier.customer_id is null then 'not_a_customer'
            else coalesce(earlier.{{ dimension }}, 'unscored')
        end as from_{{ dimension }},
        coalesce(later.{{ dimension }}, 'unscored') as to_{{ dimension }}{{ ',' if not loop.last }}
        {%- endfor %}
    from consecutive_dates
    inner join history as later
        on consecutive_dates.to_as_of_date = later.as_of_date
    left join history as earlier
        on consecutive_dates.from_as_of_date = earlier.as_of_date
        and later.customer_id = earlier.customer_id
    where consecutive_dates.from_as_of_date is not null

),

transitions as (

    {%- for dimension in dimensions %}
    select
        '{{ dimension }}' as dimension,
        from_as_of_date,
        to_as_of_date,
        from_{{ dimension }} as from_segment,
        to_{{ dimension }} as to_segment,
        count(*) as customers
    from moves
    group by from_as_of_date, to_as_of_date, from_{{ dimension }}, to_{{ dimension }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

)

select
    cast(dimension as {{ dbt.type_string() }}) as dimension,
    from_as_of_date,
    to_as_of_date,
    cast(from_segment as {{ dbt.type_string() }}) as from_segment,
    cast(to_segment as {{ dbt.type_string() }}) as to_segment,
    cast(customers as {{ dbt.type_bigint() }}) as customers

from transitions
where {{ required_sources_landed() }}
